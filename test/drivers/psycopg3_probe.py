# A client for the native listener's tests: psycopg 3 (Debian's python3-psycopg, over libpq) connects, then runs
# the commands read from stdin, one per line, fields separated by tabs, and prints one line per command:
# "ok\t<what came back>" or "error\t<SQLSTATE>\t<message>". It checks nothing itself: the test reads its lines.
# psycopg 3 opens a transaction before the first statement unless autocommit is on. Commands:
#   execute <sql>              conn.execute, the rows fetched (psycopg 3 binds server-side: extended protocol)
#   param <sql> <json list>    conn.execute with parameters ($1... sent apart from the text)
#   prepared <n> <sql> <json>  the same statement executed n times with prepare=True (a named prepared statement)
#   binary <sql>               a cursor asking for binary results
#   pipeline <sql>...          every <sql> in one pipeline (pipeline mode), the rows of each
#   named <itersize> <sql>     a named (server-side) cursor: DECLARE, Describe of its portal, then FETCHes
#   copyout <sql>              cursor.copy(<sql>): a COPY ... TO STDOUT's lines
#   autocommit on|off, commit, rollback
# Usage: /usr/bin/python3 psycopg3_probe.py '<libpq conninfo>'
import json
import sys

import psycopg


def shown(got):
    first = "|".join(str(v) for v in got[0]) if got else ""
    return "rows=%d %s" % (len(got), first)


def result(cur):
    if cur.description is None:
        return "count=%d" % cur.rowcount
    return shown(cur.fetchall())


def run(conn, f):
    cmd = f[0]
    if cmd == "execute":
        return result(conn.execute(f[1]))
    if cmd == "param":
        return result(conn.execute(f[1], json.loads(f[2])))
    if cmd == "prepared":
        out = [result(conn.execute(f[2], json.loads(f[3]), prepare=True)) for _ in range(int(f[1]))]
        return " / ".join(out)
    if cmd == "binary":
        return result(conn.cursor(binary=True).execute(f[1]))
    if cmd == "pipeline":
        with conn.pipeline():
            cursors = [conn.execute(sql) for sql in f[1:]]
        return " / ".join(result(cur) for cur in cursors)
    if cmd == "named":
        with conn.cursor(name="probe_cursor") as cur:
            cur.itersize = int(f[1])
            cur.execute(f[2])
            got = list(cur)
            types = ",".join(type(v).__name__ for v in got[0]) if got else ""
        return "%s types=%s" % (shown(got), types)
    if cmd == "copyout":
        with conn.cursor().copy(f[1]) as copy:
            lines = b"".join(bytes(chunk) for chunk in copy).decode().splitlines()
        return "lines=%d %s" % (len(lines), lines[0].replace("\t", "|") if lines else "")
    if cmd == "autocommit":
        conn.autocommit = f[1] == "on"
        return "autocommit=%s" % conn.autocommit
    if cmd == "commit":
        conn.commit()
        return "committed"
    if cmd == "rollback":
        conn.rollback()
        return "rolled back"
    raise ValueError("unknown command " + cmd)


def main():
    try:
        conn = psycopg.connect(sys.argv[1], application_name="psycopg3-probe")
    except psycopg.Error as e:
        print("error\t%s\t%s" % (e.sqlstate, str(e).replace("\n", " ")), flush=True)
        return
    print("ok\tconnected", flush=True)
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line:
            continue
        try:
            out = "ok\t" + run(conn, line.split("\t"))
        except psycopg.Error as e:
            out = "error\t%s\t%s" % (e.sqlstate, str(e))
            try:
                conn.rollback()
            except psycopg.Error:
                pass
        except Exception as e:  # noqa: BLE001 - the test reads every failure as a line
            out = "error\t-\t%r" % (e,)
        print(out.replace("\n", " "), flush=True)
    conn.close()


main()
