# A libpq client for the native listener's tests: psycopg2 (Debian's python3-psycopg2, over libpq) connects,
# then runs the commands read from stdin, one per line, fields separated by tabs, and prints one line per
# command: "ok\t<what came back>" or "error\t<SQLSTATE>\t<message>". It checks nothing itself: the test reads
# its lines. psycopg2 opens a transaction before the first statement unless autocommit is on (as it does for
# every program that uses it with its defaults). Commands:
#   execute <sql>              cursor.execute, the rows fetched
#   param <sql> <json list>    cursor.execute with parameters (psycopg2 quotes them into the text client-side)
#   named <itersize> <sql>     a named (server-side) cursor: DECLARE, then FETCH FORWARD <itersize> until done
#   copyout <sql>              cursor.copy_expert(<sql>) into a buffer (a COPY ... TO STDOUT)
#   autocommit on|off, commit, rollback
# Usage: /usr/bin/python3 psycopg_probe.py '<libpq conninfo>'
import io
import json
import sys

import psycopg2


def rows(cur):
    if cur.description is None:
        return "count=%d" % cur.rowcount
    got = cur.fetchall()
    first = "|".join(str(v) for v in got[0]) if got else ""
    return "rows=%d %s" % (len(got), first)


def run(conn, f):
    cmd = f[0]
    if cmd == "execute":
        with conn.cursor() as cur:
            cur.execute(f[1])
            return rows(cur)
    if cmd == "param":
        with conn.cursor() as cur:
            cur.execute(f[1], json.loads(f[2]))
            return rows(cur)
    if cmd == "named":
        n = 0
        first = None
        with conn.cursor(name="probe_cursor") as cur:
            cur.itersize = int(f[1])
            cur.execute(f[2])
            for row in cur:
                n += 1
                if first is None:
                    first = "|".join(str(v) for v in row)
        return "rows=%d %s" % (n, first or "")
    if cmd == "copyout":
        buf = io.StringIO()
        with conn.cursor() as cur:
            cur.copy_expert(f[1], buf)
        lines = buf.getvalue().splitlines()
        return "lines=%d %s" % (len(lines), lines[0] if lines else "")
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
        conn = psycopg2.connect(sys.argv[1], application_name="psycopg-probe")
    except psycopg2.Error as e:
        print("error\t%s\t%s" % (e.pgcode, str(e).replace("\n", " ")), flush=True)
        return
    print("ok\tconnected", flush=True)
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line:
            continue
        try:
            out = "ok\t" + run(conn, line.split("\t"))
        except psycopg2.Error as e:
            out = "error\t%s\t%s" % (e.pgcode, str(e))
        except Exception as e:  # noqa: BLE001 - the test reads every failure as a line
            out = "error\t-\t%r" % (e,)
        print(out.replace("\n", " "), flush=True)
    conn.close()


main()
