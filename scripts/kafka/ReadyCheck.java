import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterResult;

/**
 * Exits 0 once the broker at args[0] serves cluster metadata (a controller and at least one broker node, and a
 * topic listing), so scripts/kafka.sh returns only when clients can really use it, not merely when the port is
 * open. Run with the broker's own classpath via Java's source-file mode; no build step.
 */
public class ReadyCheck {
  public static void main(String[] args) {
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
    try (Admin admin = Admin.create(props)) {
      DescribeClusterResult cluster = admin.describeCluster();
      int nodes = cluster.nodes().get(5, TimeUnit.SECONDS).size();
      cluster.controller().get(5, TimeUnit.SECONDS);
      admin.listTopics().names().get(5, TimeUnit.SECONDS);
      System.exit(nodes > 0 ? 0 : 1);
    } catch (Exception e) {
      System.err.println("kafka: not ready yet: " + e.getMessage());
      System.exit(1);
    }
  }
}
