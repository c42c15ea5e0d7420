// Shown while the editor page loads its connection list on the server.
import "@/components/editor/editor.css";

export default function EditorLoading() {
  return (
    <div className="sqled">
      <div className="editor-head">
        <div>
          <h1>SQL editor</h1>
          <p className="lead">Loading your connections…</p>
        </div>
      </div>
      <div className="workbench" aria-busy="true">
        <div className="workbench-main">
          <div className="outcome-empty" role="status">
            <span className="spinner" aria-hidden="true" />
            Loading the editor…
          </div>
        </div>
      </div>
    </div>
  );
}
