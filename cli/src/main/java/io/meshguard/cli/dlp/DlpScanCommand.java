package io.meshguard.cli.dlp;

import io.meshguard.dlp.content.JsonText;
import io.meshguard.dlp.policy.Direction;
import io.meshguard.dlp.policy.DlpPolicy;
import io.meshguard.dlp.policy.DlpPolicyParser;
import io.meshguard.dlp.policy.PolicyInvalidException;
import io.meshguard.dlp.scan.ValueHasher;
import io.meshguard.dlpserver.BodyScan;
import io.meshguard.dlpserver.DlpServerSettings;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code meshguard dlp scan}: runs the server's engine over a file and writes the rewritten content to stdout and
 * one JSON line per finding to stderr. Exit 0 = passes (possibly rewritten), 2 = blocked, 1 = usage or policy error.
 */
@Command(
        name = "scan",
        mixinStandardHelpOptions = true,
        description = {
            "Scan a file with the DLP rules, exactly as the server does.",
            "Rewritten content goes to stdout, findings as JSON lines to stderr.",
            "Exit 0: passes (possibly rewritten); 2: blocked by policy; 1: usage or policy error."
        })
public final class DlpScanCommand implements Callable<Integer> {
    static final int BLOCKED = 2;

    @Option(names = "--policy", required = true, description = "The dlp.yaml to apply.")
    Path policy;

    @Option(
            names = "--content-type",
            defaultValue = "text/plain",
            description = "Content type of the input (default: ${DEFAULT-VALUE}).")
    String contentType;

    @Option(
            names = "--content-encoding",
            defaultValue = "",
            description = "Content-encoding of the input (gzip, deflate, br, zstd; default identity).")
    String contentEncoding;

    @Option(
            names = "--direction",
            defaultValue = "response",
            description = "request or response (default: ${DEFAULT-VALUE}).")
    String direction;

    @Option(names = "--route", defaultValue = "/", description = "Request path the profiles match on.")
    String route;

    @Option(names = "--host", defaultValue = "", description = "Request host the profiles match on.")
    String host;

    @Option(names = "--tenant", defaultValue = "", description = "Tenant for keyed hashes.")
    String tenant;

    @Option(names = "--chunk-size", description = "Feed the input in chunks of N bytes (default: all at once).")
    Integer chunkSize;

    @Parameters(index = "0", paramLabel = "FILE|-", description = "Input file, or - for stdin.")
    String input;

    PrintStream out = System.out;
    PrintStream err = System.err;
    InputStream in = System.in;
    /** Where MESHGUARD_DLP_HASH_KEY_FILE / MESHGUARD_DLP_HASH_KEY come from (tests replace it). */
    java.util.Map<String, String> env = System.getenv();

    @Override
    public Integer call() throws IOException {
        Direction dir;
        switch (direction.toLowerCase(Locale.ROOT)) {
            case "request" -> dir = Direction.REQUEST;
            case "response" -> dir = Direction.RESPONSE;
            default -> {
                err.println("meshguard dlp scan: --direction must be request or response");
                return 1;
            }
        }
        if (chunkSize != null && chunkSize < 1) {
            err.println("meshguard dlp scan: --chunk-size must be at least 1");
            return 1;
        }
        DlpPolicy rules;
        try {
            rules = DlpPolicyParser.parse(policy);
        } catch (PolicyInvalidException e) {
            err.println(e.getMessage());
            return 1;
        } catch (IOException e) {
            err.println("meshguard dlp scan: cannot read " + policy + ": " + e.getMessage());
            return 1;
        }
        byte[] key;
        try {
            key = DlpServerSettings.keyFromEnvironment(env);
        } catch (IllegalArgumentException e) {
            err.println("meshguard dlp scan: " + e.getMessage());
            return 1;
        }
        if (key.length == 0) {
            key = ValueHasher.ephemeralMasterKey();
        }
        byte[] content;
        try {
            content = input.equals("-") ? in.readAllBytes() : Files.readAllBytes(Path.of(input));
        } catch (IOException e) {
            err.println("meshguard dlp scan: cannot read " + input + ": " + e.getMessage());
            return 1;
        }
        BodyScan scan = BodyScan.open(
                rules,
                dir,
                host,
                route,
                contentType,
                contentEncoding,
                ValueHasher.forTenant(key, tenant),
                (f, location) -> err.println("{\"detector\":"
                        + JsonText.quote(f.detector()) + ",\"action\":"
                        + JsonText.quote(f.action().id())
                        + ",\"location\":" + JsonText.quote(location) + ",\"start\":" + f.start() + ",\"end\":"
                        + f.end() + ",\"length\":" + f.length() + ",\"confidence\":"
                        + String.format(Locale.ROOT, "%.2f", f.confidence()) + ",\"hmac\":"
                        + JsonText.quote(f.valueHmac()) + "}"));
        // Without --chunk-size the body is handled whole (like a BUFFERED body): nothing is written when it is
        // blocked. With --chunk-size, decided bytes stream out as the server streams them.
        java.io.ByteArrayOutputStream whole = new java.io.ByteArrayOutputStream();
        OutputStream stdout = chunkSize == null ? whole : out;
        int step = chunkSize == null ? Math.max(1, content.length) : chunkSize;
        for (int i = 0; i < content.length && scan.blocked().isEmpty(); i += step) {
            stdout.write(scan.write(java.util.Arrays.copyOfRange(content, i, Math.min(content.length, i + step))));
        }
        if (scan.blocked().isEmpty()) {
            stdout.write(scan.finish());
        }
        scan.close(); // a compressed body abandoned at a block still has a decoder to release
        if (chunkSize == null && scan.blocked().isEmpty()) {
            whole.writeTo(out);
        }
        out.flush();
        if (!scan.note().isEmpty()) {
            err.println("{\"note\":" + JsonText.quote(scan.note()) + ",\"profile\":"
                    + JsonText.quote(scan.profile().orElse("")) + "}");
        }
        if (scan.blocked().isPresent()) {
            BodyScan.Blocked b = scan.blocked().get();
            err.println("{\"blocked\":true,\"reason\":" + JsonText.quote(b.reason())
                    + b.finding()
                            .map(f -> ",\"detector\":" + JsonText.quote(f.detector()))
                            .orElse("") + "}");
            return BLOCKED;
        }
        return 0;
    }
}
