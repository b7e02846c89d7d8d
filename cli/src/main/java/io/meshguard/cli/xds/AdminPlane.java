package io.meshguard.cli.xds;

import io.meshguard.access.AdminEvents;
import io.meshguard.access.AdminGate;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.api.CatalogApi;
import io.meshguard.catalog.api.CatalogSettings;
import io.meshguard.extauthz.apikey.ApiKeyAdminApi;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.console.CatalogConsole;
import io.meshguard.xds.console.ConsoleSettings;
import java.time.Clock;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The admin plane on the controller's HTTP port, wired once for {@code meshguard xds} (a cluster) and
 * {@code meshguard up}: the controller's admin API, the catalogue API, and the console with Approvals and the developer
 * portal over those same operations, all behind one gate and one admin trail. A test of {@code up}'s console is a
 * test of what a cluster serves.
 *
 * @param keys the API keys' admin operations the portal calls (on the key database extauthz reads)
 * @param portalKeyTier the rate-limit tier of keys created in the portal
 */
public record AdminPlane(AdminGate gate, AdminEvents events, DataSource dataSource, CatalogSettings catalog,
        ConsoleSettings console, ApiKeyAdminApi keys, String portalKeyTier) {

    /** Mounts every handler on {@code http}, before it starts; returns the catalogue API it mounted. */
    public CatalogApi configure(StatusHttpServer http, XdsController xds) {
        xds.mountAdminApi(http, gate);
        CatalogApi catalogue = new CatalogApi(new CatalogStore(dataSource), gate, events, Clock.systemUTC(),
                catalog.domain(), catalog.keycloak(), xds.productServing());
        http.addHandler(CatalogApi.PREFIX, catalogue);
        xds.mountConsole(http, gate, console, Optional.of(new CatalogConsole(new CatalogStore(dataSource), catalogue,
                keys, portalKeyTier)));
        http.addReadinessChecks(xds.readinessChecks());
        return catalogue;
    }
}
