package io.meshguard.xds.approval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.access.Person;
import java.io.IOException;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import javax.sql.DataSource;

/**
 * Migration V38's tables: protected gateway groups, who authored draft changes per group, and publish requests (with
 * their replay report since V70). Decisions take the request's row lock, so two approvers racing publish once.
 */
public final class FourEyesStore {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A protected group: who protected it, when and why. */
    public record Protection(String group, String protectedBy, Instant protectedAt, String reason) {}

    /** A decision made under the request's row lock. */
    @FunctionalInterface
    public interface Decision<T> {
        T decide(Connection c, PublishRequest pending) throws SQLException;
    }

    private final DataSource dataSource;

    public FourEyesStore(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    public Optional<Protection> protection(String group) {
        return query(
                        "select group_name, protected_by, protected_at, reason from protected_group where group_name = ?",
                        group)
                .stream()
                .findFirst();
    }

    public List<Protection> protections() {
        return query("select group_name, protected_by, protected_at, reason from protected_group order by group_name");
    }

    public void protect(String group, String actor, String reason) {
        update(
                "insert into protected_group (group_name, protected_by, reason) values (?, ?, ?)"
                        + " on conflict (group_name) do nothing",
                group,
                actor,
                reason);
    }

    /** @return whether the group was protected */
    public boolean unprotect(String group) {
        return update("delete from protected_group where group_name = ?", group) == 1;
    }

    /** The people whose draft changes in a group no decision has served yet, and the newest such change. */
    public record OpenAuthors(Set<String> names, Set<String> people, long through) {
        public OpenAuthors {
            names = Set.copyOf(names);
            people = Set.copyOf(people);
        }
    }

    /** Records {@code person} as an author of the draft of each of {@code groups}. */
    public void authored(Collection<String> groups, Person person) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "insert into draft_author (group_name, actor, person)" + " values (?, ?, ?)")) {
            for (String g : groups) {
                ps.setString(1, g);
                ps.setString(2, person.name());
                ps.setString(3, person.id());
                ps.addBatch();
            }
            ps.executeBatch();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot record the draft's authors: " + e.getMessage(), e);
        }
    }

    /**
     * Everyone whose change to the group's draft is not yet served by a decision (a publish of an unprotected group or
     * an approval): a rollback serves an older revision and settles nobody's change.
     */
    public OpenAuthors openAuthors(String group) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("select actor, coalesce(person, actor), id from draft_author"
                        + " where group_name = ? and settled_at is null order by id")) {
            ps.setString(1, group);
            Set<String> names = new LinkedHashSet<>();
            Set<String> people = new LinkedHashSet<>();
            long through = 0;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    names.add(rs.getString(1));
                    people.add(rs.getString(2));
                    through = rs.getLong(3);
                }
            }
            return new OpenAuthors(names, people, through);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the draft's authors: " + e.getMessage(), e);
        }
    }

    /** The newest draft change of any group: what a publish about to be served covers. */
    public long latestChange() {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("select coalesce(max(id), 0) from draft_author");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the draft's authors: " + e.getMessage(), e);
        }
    }

    /** Marks the group's draft changes up to {@code through} as served by a decision. */
    public void settle(String group, long through) {
        try (Connection c = dataSource.getConnection()) {
            settle(c, group, through);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot settle the draft's authors: " + e.getMessage(), e);
        }
    }

    static void settle(Connection c, String group, long through) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("update draft_author set settled_at = now()"
                + " where group_name = ? and id <= ? and settled_at is null")) {
            ps.setString(1, group);
            ps.setLong(2, through);
            ps.executeUpdate();
        }
    }

    /** Opens a request for {@code group} requested {@code at}, voiding a pending one it replaces. */
    public PublishRequest open(
            String group,
            Person requester,
            Instant at,
            String reason,
            JsonNode content,
            String sha256,
            JsonNode diff,
            OpenAuthors authors) {
        long id = PendingRequests.open(
                dataSource, "publish_request", "group_name", "publish request", group, requester.name(), at, c -> {
                    try (PreparedStatement ps = c.prepareStatement("insert into publish_request (group_name,"
                            + " requested_by, reason, content, content_sha256, diff, authors, requested_by_person,"
                            + " author_people, authors_through, requested_at)"
                            + " values (?, ?, ?, ?::jsonb, ?, ?::jsonb, ?, ?, ?, ?, ?) returning id")) {
                        Set<String> names = new LinkedHashSet<>(authors.names());
                        names.add(requester.name());
                        Set<String> people = new LinkedHashSet<>(authors.people());
                        people.add(requester.id());
                        ps.setString(1, group);
                        ps.setString(2, requester.name());
                        ps.setString(3, reason);
                        ps.setString(4, content.toString());
                        ps.setString(5, sha256);
                        ps.setString(6, diff.toString());
                        ps.setArray(7, c.createArrayOf("varchar", names.toArray()));
                        ps.setString(8, requester.id());
                        ps.setArray(9, c.createArrayOf("varchar", people.toArray()));
                        ps.setLong(10, authors.through());
                        ps.setTimestamp(11, Timestamp.from(at));
                        return PendingRequests.insertedId(ps);
                    }
                });
        return get(id).orElseThrow();
    }

    /** Keeps {@code report} with a pending request (replacing an older report); false when it is no longer pending. */
    public boolean attachReport(long id, ReplayReport report) {
        return PendingRequests.attachReport(dataSource, "publish_request", "publish request", id, report);
    }

    public Optional<PublishRequest> get(long id) {
        return requests("where id = ?", id).stream().findFirst();
    }

    /** The requested slice, exactly as stored. */
    public JsonNode content(long id) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("select content::text from publish_request where id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new IllegalStateException("no publish request " + id);
                }
                return JSON.readTree(rs.getString(1));
            }
        } catch (SQLException | IOException e) {
            throw new IllegalStateException("cannot read publish request " + id + ": " + e.getMessage(), e);
        }
    }

    public List<PublishRequest> list(Optional<String> group) {
        return group.isPresent()
                ? requests("where group_name = ? order by id desc limit 100", group.get())
                : requests("order by id desc limit 100");
    }

    /** The requests of {@code group} still waiting for a decision, oldest first. */
    public List<PublishRequest> pending(String group) {
        return requests("where group_name = ? and state = 'pending' order by id", group);
    }

    /** The request that published {@code revision}, if an approval did. */
    public Optional<PublishRequest> publishedAs(long revision) {
        return requests("where revision = ? and state = 'published'", revision).stream()
                .findFirst();
    }

    /**
     * Runs {@code decision} holding the request's row lock, if the request is still pending; the decision writes
     * the outcome with {@link #close}. Empty when the request is not pending (already decided).
     */
    public <T> Optional<T> whilePending(long id, Decision<T> decision) {
        return PendingRequests.whilePending(
                dataSource, "publish_request", "publish request", id, this::get, decision::decide);
    }

    /** Writes a decision inside {@link #whilePending}. */
    public static void close(
            Connection c, long id, PublishRequest.State state, String decider, String reason, Optional<Long> revision)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("update publish_request set state = ?, decided_by = ?,"
                + " decided_at = now(), decision_reason = ?, revision = ? where id = ?")) {
            ps.setString(1, state.name().toLowerCase(Locale.ROOT));
            ps.setString(2, decider);
            ps.setString(3, reason);
            if (revision.isPresent()) {
                ps.setLong(4, revision.get());
            } else {
                ps.setNull(4, java.sql.Types.BIGINT);
            }
            ps.setLong(5, id);
            ps.executeUpdate();
        }
    }

    private List<PublishRequest> requests(String where, Object... args) {
        String sql = "select id, group_name, state, requested_by, requested_at, reason, content_sha256, diff::text,"
                + " authors, decided_by, decided_at, decision_reason, revision, author_people, authors_through,"
                + " report::text"
                + " from publish_request " + where;
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            List<PublishRequest> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Array authors = rs.getArray(9);
                    long revision = rs.getLong(13);
                    boolean noRevision = rs.wasNull();
                    String report = rs.getString(16);
                    out.add(new PublishRequest(
                            rs.getLong(1),
                            rs.getString(2),
                            PublishRequest.State.valueOf(rs.getString(3).toUpperCase(Locale.ROOT)),
                            rs.getString(4),
                            rs.getTimestamp(5).toInstant(),
                            rs.getString(6),
                            rs.getString(7),
                            JSON.readTree(rs.getString(8)),
                            Arrays.asList((String[]) authors.getArray()),
                            Optional.ofNullable(rs.getString(10)),
                            Optional.ofNullable(rs.getTimestamp(11)).map(Timestamp::toInstant),
                            Optional.ofNullable(rs.getString(12)),
                            noRevision ? Optional.empty() : Optional.of(revision),
                            Arrays.asList((String[]) rs.getArray(14).getArray()),
                            rs.getLong(15),
                            Optional.ofNullable(report).map(t -> ReplayReport.fromJson(readTree(t)))));
                }
            }
            return out;
        } catch (SQLException | IOException e) {
            throw new IllegalStateException("cannot read publish requests: " + e.getMessage(), e);
        }
    }

    private static JsonNode readTree(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new IllegalStateException("a stored replay report is not JSON: " + e.getMessage(), e);
        }
    }

    private List<Protection> query(String sql, Object... args) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            List<Protection> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Protection(
                            rs.getString(1), rs.getString(2), rs.getTimestamp(3).toInstant(), rs.getString(4)));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read protected groups: " + e.getMessage(), e);
        }
    }

    private int update(String sql, Object... args) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot change protected groups: " + e.getMessage(), e);
        }
    }

    private static void bind(PreparedStatement ps, Object... args) throws SQLException {
        for (int i = 0; i < args.length; i++) {
            if (args[i] instanceof Long l) {
                ps.setLong(i + 1, l);
            } else {
                ps.setString(i + 1, (String) args[i]);
            }
        }
    }
}
