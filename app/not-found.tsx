import Link from "next/link";

export default function NotFound() {
  return (
    <div className="center-card">
      <div className="panel">
        <h1>Not found</h1>
        <p className="lead">There is nothing at this address, or you may not see it.</p>
        <Link className="btn" href="/">
          Back to the console
        </Link>
      </div>
    </div>
  );
}
