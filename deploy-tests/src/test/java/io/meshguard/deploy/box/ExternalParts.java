package io.meshguard.deploy.box;

import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.meshguard.runtime.keycloak.LocalKeycloak;
import io.meshguard.testing.KeycloakServer;
import io.meshguard.testing.OpensslCa;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The parts a bank runs itself, as pods of their own in namespace {@value #NAMESPACE} (no NetworkPolicy there, as in
 * a bank's data tier outside the mesh): PostgreSQL from this machine's Debian packages
 * ({@code /usr/lib/postgresql/<major>/bin}, run as the {@code postgres} user, password authentication for remote
 * clients), with the roles and database docs/install.md section 3 tells the DBA to create; and Redis from the
 * {@code redis-server} binary inside the embedded-redis jar, with the password of Secret {@code meshguard-redis}.
 * The bank's identity provider in namespace {@value #IDP_NAMESPACE}: Keycloak from the {@code keycloak-quarkus-dist}
 * zip, unpacked and started by the launcher {@code up} and the tests use ({@link LocalKeycloak}), on port 443 (plain
 * HTTP: the box issues no certificates), its realm set up later by docs/install.md's block.
 */
final class ExternalParts {
    static final String NAMESPACE = "bank-data";
    static final String POSTGRES = "postgres";
    static final String REDIS = "redis";
    static final String IDP_NAMESPACE = "bank-idp";
    static final String KEYCLOAK = "keycloak";
    /** Keycloak's HTTP port: the issuer's port a bank's HTTPS IdP has, which the NetworkPolicies name. */
    static final int KEYCLOAK_PORT = 443;
    /** The TLS front of Keycloak (the bank's load balancer), by the bank's public name of its IdP. */
    static final String IDP_FRONT = "idp";

    static final String IDP_HOST = "idp.bank.example";
    /** The bank's one CA: it signs the IdP front's certificate and central's. */
    static final String BANK_CA = "/O=Bank/CN=Bank internal CA";
    /** The realm the bank's customers sign in to: the shipped policies/authz.yaml trusts its issuer (bank-idp). */
    static final String RETAIL_REALM = "retail";
    /**
     * The bank's DNS: a name the bank's resolvers give a Service's address (a Service annotation only the box reads;
     * in a cluster, the bank's DNS or a CoreDNS stub domain does this).
     */
    static final String BANK_DNS = "box.meshguard.io/bank-dns";

    private ExternalParts() {}

    static List<Service> services() {
        Service front = service(IDP_FRONT, IDP_NAMESPACE, 443);
        front.getMetadata().setAnnotations(Map.of(BANK_DNS, IDP_HOST));
        return List.of(
                service(POSTGRES, NAMESPACE, 5432),
                service(REDIS, NAMESPACE, 6379),
                service(KEYCLOAK, IDP_NAMESPACE, KEYCLOAK_PORT),
                front);
    }

    /**
     * The issuer of a realm as the bank publishes it: https at its TLS front's name ({@value #IDP_HOST}, which every
     * pod and the bank's people resolve), the realm's frontend URL; the admin plane fetches keys over https only.
     */
    static String issuer(String realm) {
        return "https://" + IDP_HOST + "/realms/" + realm;
    }

    static Service service(String name, String namespace, int port) {
        return new ServiceBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(namespace)
                .endMetadata()
                .withNewSpec()
                .withSelector(Map.of("app", name))
                .addNewPort()
                .withName("tcp")
                .withPort(port)
                .withNewTargetPort(port)
                .endPort()
                .endSpec()
                .build();
    }

    /**
     * The bank's own CA and the IdP front's certificate for {@value #IDP_HOST} it signed (openssl): {@code ca.crt}
     * (PEM, what the operator puts in Secret meshguard-idp-ca) and {@code idp.p12} (password {@code box}).
     */
    static Path bankCertificates(Path dir) {
        OpensslCa ca = OpensslCa.in(dir, BANK_CA);
        ca.pkcs12(ca.issue(IDP_HOST, "idp"), dir.resolve("idp.p12"), "box");
        return dir;
    }

    /** The pod spec of a bank part: one container with its one port (what Services and policies resolve). */
    static PodSpec spec(String name, int port) {
        PodSpec spec = new PodSpec();
        spec.setContainers(List.of(new io.fabric8.kubernetes.api.model.ContainerBuilder()
                .withName(name)
                .withImage("bank/" + name)
                .addNewPort()
                .withName("tcp")
                .withContainerPort(port)
                .endPort()
                .build()));
        return spec;
    }

    /**
     * Keycloak in {@code pod}: the shared distribution (unpacked from the local Maven repository on first use), as
     * root in the pod's own namespaces, on all its addresses, with the bootstrap admin's {@code adminPassword}.
     */
    static Launch keycloak(BoxPod pod, Path dir, String hosts, String adminPassword) {
        try {
            Path home = keycloakHome();
            Map<String, String> env = new java.util.HashMap<>(LocalKeycloak.environment(adminPassword));
            env.put("HOME", dir.toString());
            // a pod's /etc/hosts names the pod itself; without a UTS namespace its host name is the node's, which
            // the JVM's InetAddress.getLocalHost() looks up at start (a DNS timeout per lookup otherwise)
            String self = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
            return new Launch(
                    pod.name(),
                    pod.netns(),
                    List.of(),
                    hosts + pod.ip() + " " + self + "\n",
                    false,
                    Optional.empty(),
                    env,
                    LocalKeycloak.command(home, "0.0.0.0", KEYCLOAK_PORT, 9000),
                    dir.resolve("pod"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The distribution the box's Keycloak and kcadm.sh run from: the build's shared one ({@link KeycloakServer}). */
    static Path keycloakHome() throws IOException {
        return LocalKeycloak.distribution(KeycloakServer.cacheDirectory());
    }

    /** initdb into {@code dir} as {@code postgres}; the Launch of the server in {@code pod}'s network namespace. */
    static Launch postgres(BoxPod pod, Path dir, String hosts, OperatorSecrets secrets) {
        Path bin = postgresBin();
        try {
            Files.createDirectories(dir);
            Path data = dir.resolve("data");
            Path socket = dir.resolve("socket");
            Files.createDirectories(socket);
            Path pwfile = dir.resolve("superuser-password");
            Files.writeString(pwfile, secrets.dbPassword() + "\n");
            Shell.run("chown", "-R", "postgres:postgres", dir.toString());
            Shell.run(
                    "runuser",
                    "-u",
                    "postgres",
                    "--",
                    bin.resolve("initdb").toString(),
                    "-D",
                    data.toString(),
                    "-U",
                    "postgres",
                    "--pwfile=" + pwfile,
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8");
            Files.writeString(
                    data.resolve("pg_hba.conf"),
                    "host all all 0.0.0.0/0 scram-sha-256\n",
                    java.nio.file.StandardOpenOption.APPEND);
            String[] ids = Shell.run("id", "-u", "postgres").strip().split("\\s+");
            String gid = Shell.run("id", "-g", "postgres").strip();
            return new Launch(
                    pod.name(),
                    pod.netns(),
                    List.of(),
                    hosts,
                    false,
                    Optional.of(ids[0] + ":" + gid),
                    Map.of(),
                    List.of(
                            bin.resolve("postgres").toString(),
                            "-D",
                            data.toString(),
                            "-c",
                            "listen_addresses=*",
                            "-c",
                            "port=5432",
                            "-c",
                            "unix_socket_directories=" + socket,
                            "-c",
                            "fsync=off",
                            "-c",
                            "max_connections=200"),
                    dir.resolve("pod"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The DBA's statements of docs/install.md section 3, run with psql over the server's Unix socket. */
    static void createRolesAndDatabase(Path dir, OperatorSecrets secrets) {
        Path psql = postgresBin().resolve("psql");
        String socket = dir.resolve("socket").toString();
        String password = secrets.dbPassword().replace("'", "''");
        for (String sql : List.of(
                "create role meshguard login password '" + password + "'",
                "create database meshguard owner meshguard",
                "create role meshguard_tenant_scoped nologin",
                "grant meshguard_tenant_scoped to meshguard with admin option",
                "create role meshguard_server nologin",
                "create role meshguard_app login password '" + password + "' in role meshguard_server")) {
            Shell.run(
                    "runuser",
                    "-u",
                    "postgres",
                    "--",
                    psql.toString(),
                    "-h",
                    socket,
                    "-U",
                    "postgres",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-c",
                    sql);
        }
    }

    /** One query as the DBA against {@code database} (psql over the server's Unix socket): rows, fields by '|'. */
    static String query(Path dir, String database, String sql) {
        return Shell.run(
                "runuser",
                "-u",
                "postgres",
                "--",
                postgresBin().resolve("psql").toString(),
                "-h",
                dir.resolve("socket").toString(),
                "-U",
                "postgres",
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-At",
                "-c",
                sql);
    }

    static Path postgresBin() {
        Path layout = Path.of("/usr/lib/postgresql");
        try (var majors = Files.list(layout)) {
            return majors.filter(m -> m.getFileName().toString().matches("\\d+"))
                    .max((a, b) -> Integer.compare(
                            Integer.parseInt(a.getFileName().toString()),
                            Integer.parseInt(b.getFileName().toString())))
                    .map(m -> m.resolve("bin"))
                    .filter(b -> Files.isExecutable(b.resolve("postgres")))
                    .orElseThrow(() -> new IllegalStateException(
                            "no PostgreSQL under " + layout + " (Debian package postgresql)"));
        } catch (IOException e) {
            throw new IllegalStateException("no PostgreSQL under " + layout + " (Debian package postgresql)", e);
        }
    }

    /** The redis-server binary of the embedded-redis jar, copied to {@code dir}; its Launch in {@code pod}. */
    static Launch redis(BoxPod pod, Path dir, String hosts, OperatorSecrets secrets) {
        try {
            Files.createDirectories(dir);
            Path binary = dir.resolve("redis-server");
            String resource = "/redis-server-6.2.6-v5-linux-amd64";
            try (InputStream in = redis.embedded.RedisServer.class.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException("embedded-redis carries no " + resource);
                }
                Files.copy(in, binary, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.setPosixFilePermissions(binary, PosixFilePermissions.fromString("rwxr-xr-x"));
            return new Launch(
                    pod.name(),
                    pod.netns(),
                    List.of(),
                    hosts,
                    false,
                    Optional.of("999:999"),
                    Map.of(),
                    List.of(
                            binary.toString(),
                            "--port",
                            "6379",
                            "--bind",
                            "0.0.0.0",
                            "--protected-mode",
                            "no",
                            "--requirepass",
                            secrets.redisPassword(),
                            "--save",
                            "",
                            "--appendonly",
                            "no",
                            "--dir",
                            "/tmp"),
                    dir.resolve("pod"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
