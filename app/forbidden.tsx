import Link from "next/link";

export default function Forbidden() {
  return (
    <div className="center-card">
      <div className="panel">
        <h1>Not allowed</h1>
        <p className="lead">
          Your account does not have the permission this page needs. Ask an admin if you need it.
        </p>
        <Link className="btn" href="/">
          Back to the console
        </Link>
      </div>
    </div>
  );
}
