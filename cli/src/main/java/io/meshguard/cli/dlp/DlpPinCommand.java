package io.meshguard.cli.dlp;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.dlp.mcp.ToolDigest;
import io.meshguard.dlp.mcp.ToolListPins;
import io.meshguard.dlp.mcp.ToolPins;
import io.meshguard.dlp.policy.DlpPolicy;
import io.meshguard.dlp.policy.DlpPolicyParser;
import io.meshguard.dlp.policy.PolicyInvalidException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code meshguard dlp pin ANSWER}: the {@code mcp_pins:} block of a profile from a live {@code tools/list} answer,
 * for a person to review and commit to dlp.yaml. The block is read back with the DLP server's own parser before it is
 * printed, and each pin's digest compared with the listed tool's, so what is printed is what the server will hold the
 * listing to; a schema the gateway cannot validate with is refused here, naming the tool.
 */
@Command(
        name = "pin",
        mixinStandardHelpOptions = true,
        description = {
            "Print the mcp_pins: block of a dlp.yaml profile from a saved tools/list answer (JSON-RPC response or "
                    + "event stream; '-' reads standard input): each tool's name, description and inputSchema exactly "
                    + "as listed. Review it, then put it under the MCP route's profile.",
            "",
            "Exit 2 when the answer cannot be read or a schema cannot be validated with."
        })
public final class DlpPinCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--tool", paramLabel = "NAME", description = "Pin only this tool (repeatable; default: all).")
    List<String> only = List.of();

    @Parameters(paramLabel = "ANSWER", description = "File holding the tools/list answer, or '-'")
    String answer;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String text = answer.equals("-")
                ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
                : Files.readString(Path.of(answer), StandardCharsets.UTF_8);
        List<JsonNode> tools;
        try {
            tools = ToolListPins.tools(text);
        } catch (IllegalArgumentException e) {
            err.println("meshguard dlp pin: " + e.getMessage());
            err.flush();
            return 2;
        }
        Set<String> wanted = new HashSet<>(only);
        List<JsonNode> chosen = tools.stream()
                .filter(t -> wanted.isEmpty() || wanted.remove(t.get("name").textValue()))
                .toList();
        if (!wanted.isEmpty()) {
            err.println("meshguard dlp pin: not listed in the answer: " + String.join(", ", wanted));
            err.flush();
            return 2;
        }
        String block = ToolListPins.yaml(chosen);
        ToolPins pins;
        try {
            DlpPolicy readBack =
                    DlpPolicyParser.parse("pins", "version: 1\nprofiles:\n  - name: pinned\n    mcp: true\n" + block);
            pins = readBack.profile("pinned").orElseThrow().mcpPins().orElseThrow();
        } catch (PolicyInvalidException e) {
            e.errors().forEach(x -> err.println("meshguard dlp pin: " + x.message()));
            err.flush();
            return 2;
        }
        for (JsonNode t : chosen) {
            String listed = ToolDigest.ofListed(t);
            String pinned = pins.tools().get(t.get("name").textValue()).digest();
            if (!listed.equals(pinned)) {
                // a value YAML would read otherwise than JSON: better no pin than one that drops the tool
                err.println("meshguard dlp pin: tool " + t.get("name").textValue()
                        + " does not read back as listed; pin it by hand");
                err.flush();
                return 2;
            }
        }
        out.print(block);
        for (JsonNode t : chosen) {
            out.println("# " + t.get("name").textValue() + " " + ToolDigest.ofListed(t));
        }
        out.flush();
        return 0;
    }
}
