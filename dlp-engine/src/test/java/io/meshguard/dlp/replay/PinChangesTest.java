package io.meshguard.dlp.replay;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.dlp.policy.DlpPolicy;
import io.meshguard.dlp.policy.DlpPolicyParser;
import org.junit.jupiter.api.Test;

class PinChangesTest {
    private static DlpPolicy policy(String tools) throws Exception {
        return DlpPolicyParser.parse(
                "dlp.yaml",
                "version: 1\nprofiles:\n  - name: mcp\n    mcp: true\n    mcp_pins:\n      tools:\n" + tools);
    }

    private static final String BALANCE = "        - {name: get_balance, input_schema: {type: object}}\n";
    private static final String TRANSFER =
            "        - {name: transfer_funds, description: moves money, input_schema: {type: object}}\n";

    @Test
    void between_samePins_noChange() throws Exception {
        assertThat(PinChanges.between(policy(BALANCE + TRANSFER), policy(TRANSFER + BALANCE)))
                .isEmpty();
    }

    @Test
    void between_descriptionChanged_toolAdded_toolRemoved_eachNamedWithItsDigests() throws Exception {
        DlpPolicy inForce = policy(BALANCE + TRANSFER);
        DlpPolicy draft = policy(TRANSFER.replace("moves money", "moves money out")
                + "        - {name: close_account, input_schema: {type: object}}\n");
        assertThat(PinChanges.between(inForce, draft))
                .extracting(c -> c.tool() + ":" + c.kind() + ":" + c.inForce().isPresent() + ":"
                        + c.draft().isPresent())
                .containsExactly(
                        "close_account:PINNED:false:true",
                        "get_balance:UNPINNED:true:false",
                        "transfer_funds:CHANGED:true:true");
    }
}
