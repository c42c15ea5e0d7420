// A JDBC client for the native listener's tests: the PostgreSQL JDBC driver (pgjdbc, Debian's
// libpostgresql-jdbc-java) connects, then runs the commands read from stdin, one per line, fields separated by
// tabs, and prints one line per command: "ok\t<what came back>" or "error\t<SQLSTATE>\t<message>".
// Run in Java's source-file mode: java -cp /usr/share/java/postgresql.jar DriverProbe.java <url> <user> <password>
// It checks nothing itself: the test reads its lines. Commands:
//   query <sql>                 a Statement (pgjdbc sends it with the extended protocol, unnamed)
//   prepare <sql>               a PreparedStatement without parameters
//   repeat <n> <sql> <int>      the same PreparedStatement n times with one int parameter (pgjdbc switches to a
//                               named server-side statement at the 5th run: prepareThreshold)
//   typed                       one statement with parameters of several types, bound with their own setters
//   meta <call>                 a DatabaseMetaData call (what DBeaver, IntelliJ and reporting tools ask)
//   autocommit on|off, commit, rollback
//   fetch <size> <sql>          a Statement with a fetch size (a portal read in parts while autocommit is off)
//   digest <size> <sql>         the same, every cell read with getString: the row count and the SHA-256 of the
//                               rows (cells joined with "|", rows with "\n"), to compare with another path's
//   first <size> <n> <sql>      reads n rows of it, then closes the ResultSet (pgjdbc closes the portal)
//   pause <size> <n> <sql>      reads n rows of it, says so, then waits for a line on stdin ("go", or a command
//                               run then, between the portal's pieces) before it reads the rest
//   typedread <size> <sql>      the last row of (int, numeric, date, timestamptz, text) read with getInt,
//                               getBigDecimal, getDate, getTimestamp, getString, and the column types announced
import java.math.BigDecimal;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.sql.*;
import java.util.*;

public class DriverProbe {
  static String rows(ResultSet rs, String column) throws SQLException {
    List<String> out = new ArrayList<>();
    int n = 0;
    while (rs.next()) {
      n++;
      if (column != null) out.add(rs.getString(column));
      else if (n == 1) {
        int cols = rs.getMetaData().getColumnCount();
        List<String> cells = new ArrayList<>();
        for (int i = 1; i <= cols; i++) cells.add(String.valueOf(rs.getString(i)));
        out.add(String.join("|", cells));
      }
    }
    rs.close();
    return "rows=" + n + " " + String.join(",", out);
  }

  static String meta(DatabaseMetaData md, String call) throws SQLException {
    switch (call) {
      case "product": return md.getDatabaseProductName() + " " + md.getDatabaseMajorVersion() + " user=" + md.getUserName();
      case "catalogs": return rows(md.getCatalogs(), "TABLE_CAT");
      case "schemas": return rows(md.getSchemas(), "TABLE_SCHEM");
      case "tableTypes": return rows(md.getTableTypes(), "TABLE_TYPE");
      case "tables": return rows(md.getTables(null, "public", "%", new String[] {"TABLE", "VIEW"}), "TABLE_NAME");
      case "columns": return rows(md.getColumns(null, "public", "customers", "%"), "COLUMN_NAME");
      case "primaryKeys": return rows(md.getPrimaryKeys(null, "public", "customers"), "COLUMN_NAME");
      case "importedKeys": return rows(md.getImportedKeys(null, "public", "orders"), "FKCOLUMN_NAME");
      case "exportedKeys": return rows(md.getExportedKeys(null, "public", "customers"), "FKTABLE_NAME");
      case "indexInfo": return rows(md.getIndexInfo(null, "public", "customers", false, false), "INDEX_NAME");
      case "typeInfo": return rows(md.getTypeInfo(), null);
      case "functions": return rows(md.getFunctions(null, "public", "%"), "FUNCTION_NAME");
      case "procedureColumns": return rows(md.getProcedureColumns(null, "public", "%", "%"), null);
      case "tablePrivileges": return rows(md.getTablePrivileges(null, "public", "customers"), "PRIVILEGE");
      case "columnPrivileges": return rows(md.getColumnPrivileges(null, "public", "customers", "%"), null);
      case "bestRowIdentifier": return rows(md.getBestRowIdentifier(null, "public", "customers", DatabaseMetaData.bestRowSession, true), "COLUMN_NAME");
      case "udts": return rows(md.getUDTs(null, "public", "%", null), null);
      default: throw new IllegalArgumentException("unknown meta call " + call);
    }
  }

  static String run(Connection c, String[] f) throws Exception {
    switch (f[0]) {
      case "query": {
        try (Statement s = c.createStatement()) {
          if (s.execute(f[1])) return rows(s.getResultSet(), null);
          return "count=" + s.getUpdateCount();
        }
      }
      case "prepare": {
        try (PreparedStatement s = c.prepareStatement(f[1])) {
          if (s.execute()) return rows(s.getResultSet(), null);
          return "count=" + s.getUpdateCount();
        }
      }
      case "repeat": {
        int n = Integer.parseInt(f[1]);
        Set<String> seen = new LinkedHashSet<>();
        try (PreparedStatement s = c.prepareStatement(f[2])) {
          for (int i = 0; i < n; i++) {
            s.setInt(1, Integer.parseInt(f[3]));
            try (ResultSet rs = s.executeQuery()) {
              while (rs.next()) seen.add(rs.getString(1));
            }
          }
        }
        return "runs=" + n + " " + String.join(",", seen);
      }
      case "typed": {
        try (PreparedStatement s = c.prepareStatement(
            "select ?::int + 1, ?::text, ?::numeric * 2, ?::boolean, ?::timestamptz, length(?::bytea), ?::bigint")) {
          s.setInt(1, 41);
          s.setString(2, "héllo");
          s.setBigDecimal(3, new BigDecimal("1.25"));
          s.setBoolean(4, true);
          s.setTimestamp(5, Timestamp.valueOf("2026-01-05 10:00:00"));
          s.setBytes(6, new byte[] {1, 2, 3});
          s.setLong(7, 9007199254740993L);
          return rows(s.executeQuery(), null);
        }
      }
      case "meta": return meta(c.getMetaData(), f[1]);
      case "autocommit": c.setAutoCommit(f[1].equals("on")); return "autocommit=" + c.getAutoCommit();
      case "commit": c.commit(); return "committed";
      case "rollback": c.rollback(); return "rolled back";
      case "fetch": {
        try (Statement s = c.createStatement()) {
          s.setFetchSize(Integer.parseInt(f[1]));
          ResultSet rs = s.executeQuery(f[2]);
          long sum = 0;
          int n = 0;
          while (rs.next()) { n++; sum += rs.getLong(1); }
          rs.close();
          return "rows=" + n + " sum=" + sum;
        }
      }
      case "digest": {
        try (Statement s = c.createStatement()) {
          s.setFetchSize(Integer.parseInt(f[1]));
          ResultSet rs = s.executeQuery(f[2]);
          java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
          int cols = rs.getMetaData().getColumnCount();
          long n = 0;
          while (rs.next()) {
            StringBuilder row = new StringBuilder(n == 0 ? "" : "\n");
            for (int i = 1; i <= cols; i++) row.append(i == 1 ? "" : "|").append(rs.getString(i));
            sha.update(row.toString().getBytes("UTF-8"));
            n++;
          }
          rs.close();
          return "rows=" + n + " sha256=" + HexFormat.of().formatHex(sha.digest());
        }
      }
      case "first":
      case "pause": {
        Statement s = c.createStatement();
        s.setFetchSize(Integer.parseInt(f[1]));
        ResultSet rs = s.executeQuery(f[3]);
        int want = Integer.parseInt(f[2]);
        long n = 0;
        while (n < want && rs.next()) n++;
        if (f[0].equals("first")) {
          rs.close();
          s.close();
          return "rows=" + n;
        }
        System.out.println("ok\tpaused rows=" + n);
        System.out.flush();
        String between = IN.readLine();
        if (between != null && !between.equals("go")) {
          String done;
          try {
            done = "ok\t" + run(c, between.split("\t"));
          } catch (SQLException e) {
            done = "error\t" + e.getSQLState() + "\t" + e.getMessage();
          }
          System.out.println(done.replace("\n", " "));
          System.out.flush();
        }
        while (rs.next()) n++;
        rs.close();
        s.close();
        return "rows=" + n;
      }
      case "typedread": {
        try (Statement s = c.createStatement()) {
          s.setFetchSize(Integer.parseInt(f[1]));
          ResultSet rs = s.executeQuery(f[2]);
          ResultSetMetaData md = rs.getMetaData();
          List<String> types = new ArrayList<>();
          for (int i = 1; i <= md.getColumnCount(); i++) types.add(md.getColumnTypeName(i));
          String last = "";
          long n = 0;
          while (rs.next()) {
            n++;
            last = rs.getInt(1) + "," + rs.getBigDecimal(2) + "," + rs.getDate(3) + "," + rs.getTimestamp(4).toInstant() + "," + rs.getString(5);
          }
          rs.close();
          return "rows=" + n + " types=" + String.join(",", types) + " last=" + last;
        }
      }
      default: throw new IllegalArgumentException("unknown command " + f[0]);
    }
  }

  static BufferedReader IN;

  public static void main(String[] args) throws Exception {
    Properties p = new Properties();
    p.setProperty("user", args[1]);
    p.setProperty("password", args[2]);
    p.setProperty("ApplicationName", "jdbc-probe");
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
    IN = in;
    try (Connection c = DriverManager.getConnection(args[0], p)) {
      System.out.println("ok\tconnected");
      String line;
      while ((line = in.readLine()) != null) {
        if (line.isEmpty()) continue;
        String result;
        try {
          result = "ok\t" + run(c, line.split("\t"));
        } catch (SQLException e) {
          result = "error\t" + e.getSQLState() + "\t" + e.getMessage();
        } catch (Exception e) {
          result = "error\t-\t" + e;
        }
        System.out.println(result.replace("\n", " "));
      }
    } catch (SQLException e) {
      System.out.println(("error\t" + e.getSQLState() + "\t" + e.getMessage()).replace("\n", " "));
    }
  }
}
