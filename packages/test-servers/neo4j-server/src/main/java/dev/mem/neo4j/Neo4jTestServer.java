package dev.mem.neo4j;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.ConnectorPortRegister;
import org.neo4j.configuration.connectors.ConnectorType;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.kernel.internal.GraphDatabaseAPI;

/**
 * Runs a real Neo4j Community database with its Bolt connector on 127.0.0.1, for tests and
 * benchmarks only.
 *
 * <p>Usage: {@code java -cp target/classes:target/lib/* dev.mem.neo4j.Neo4jTestServer <home-dir>
 * [port] [password] [page-cache-mb]}. Port 0 (the default) binds a free port. With a password, authentication is
 * on and user {@code neo4j} gets that password (Neo4j requires at least 8 characters); without
 * one, authentication is off.
 *
 * <p>Prints one line {@code READY bolt://127.0.0.1:<port>} on stdout once Bolt accepts
 * connections, then serves until its standard input closes (so it dies with the process that
 * started it) or it receives SIGTERM; either way the database is shut down cleanly.
 */
public final class Neo4jTestServer {
  private Neo4jTestServer() {}

  public static void main(String[] args) {
    try {
      serve(args);
    } catch (Throwable error) {
      error.printStackTrace();
      System.exit(1); // Neo4j's non-daemon threads would otherwise keep a half-started server alive
    }
  }

  private static void serve(String[] args) throws IOException {
    if (args.length < 1) {
      System.err.println("usage: Neo4jTestServer <home-dir> [port] [password] [page-cache-mb]");
      System.exit(2);
    }
    Path home = Path.of(args[0]);
    int port = args.length > 1 ? Integer.parseInt(args[1]) : 0;
    String password = args.length > 2 && !args[2].isEmpty() ? args[2] : null;
    long pageCacheMb = args.length > 3 ? Long.parseLong(args[3]) : 64;

    DatabaseManagementService service =
        new DatabaseManagementServiceBuilder(home)
            .setConfig(BoltConnector.enabled, true)
            .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
            .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
            .setConfig(GraphDatabaseSettings.auth_enabled, password != null)
            .setConfig(GraphDatabaseSettings.pagecache_memory, pageCacheMb * 1024 * 1024)
            .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
            .build();
    Runtime.getRuntime().addShutdownHook(new Thread(service::shutdown, "neo4j-shutdown"));

    if (password != null) {
      service
          .database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME)
          .executeTransactionally(
              "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED",
              Map.of("password", password));
    }

    GraphDatabaseAPI database =
        (GraphDatabaseAPI) service.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
    int boundPort =
        database
            .getDependencyResolver()
            .resolveDependency(ConnectorPortRegister.class)
            .getLocalAddress(ConnectorType.BOLT)
            .getPort();
    System.out.println("READY bolt://127.0.0.1:" + boundPort);
    System.out.flush();

    while (System.in.read() != -1) {
      // Serve until the parent closes our stdin.
    }
    System.exit(0); // runs the shutdown hook
  }
}
