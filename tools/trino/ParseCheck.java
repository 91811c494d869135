// Parses each file named on the command line as one Trino SQL statement with Trino's own parser
// (io.trino:trino-parser) and prints one JSON line per file: {"file", "ok"} or {"file", "ok": false,
// "error"}. Exit code 1 when any file fails. Run with Java's source launcher (no compile step):
//   java -cp '<trino-parser jars>/*' tools/trino/ParseCheck.java a.sql b.sql
import io.trino.sql.parser.ParsingException;
import io.trino.sql.parser.SqlParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

public class ParseCheck {
  private static String json(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    return b.append('"').toString();
  }

  public static void main(String[] args) throws Exception {
    SqlParser parser = new SqlParser();
    boolean failed = false;
    for (String file : args) {
      String sql = Files.readString(Path.of(file), StandardCharsets.UTF_8).trim();
      if (sql.endsWith(";")) sql = sql.substring(0, sql.length() - 1);
      try {
        String kind = parser.createStatement(sql).getClass().getSimpleName();
        System.out.println("{\"file\":" + json(file) + ",\"ok\":true,\"statement\":" + json(kind) + "}");
      } catch (ParsingException e) {
        failed = true;
        System.out.println("{\"file\":" + json(file) + ",\"ok\":false,\"error\":" + json(e.getMessage()) + "}");
      }
    }
    System.exit(failed ? 1 : 0);
  }
}
