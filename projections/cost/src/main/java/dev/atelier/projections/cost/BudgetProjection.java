package dev.atelier.projections.cost;

import dev.atelier.cluster.ViewChangeHandler;
import dev.atelier.cluster.ViewNotice;
import dev.atelier.cluster.ViewNotices;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.domain.budget.BudgetGuard;
import dev.atelier.domain.budget.BudgetPeriod;
import dev.atelier.domain.budget.BudgetReleasedEvent;
import dev.atelier.domain.budget.BudgetScope;
import dev.atelier.domain.budget.BudgetSetEvent;
import dev.atelier.domain.budget.BudgetThresholdCrossedEvent;
import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.EventMessage;
import org.axonframework.eventhandling.SequenceNumber;
import org.axonframework.eventhandling.Timestamp;
import org.axonframework.queryhandling.QueryHandler;
import org.axonframework.queryhandling.QueryUpdateEmitter;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.YearMonth;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Budgets as the API shows them, their history, and the {@link BudgetGuard} the Workspace aggregate decides starts
 * with. A subscribing processor (same transaction as the budget command), so a raised budget lets starts through the
 * moment the raise returns. Pushes every budget event to {@link BudgetQueries.WatchBudgets} subscriptions (SSE).
 */
@Component
@ProcessingGroup(BudgetProjection.PROCESSING_GROUP)
public class BudgetProjection implements BudgetGuard, ViewChangeHandler {

    public static final String PROCESSING_GROUP = "budgets";
    /** The kind of {@link ViewNotice} this projection sends and answers. */
    public static final String VIEW_KIND = "budget";
    private static final TypeReference<Map<String, Object>> OBJECT_MAP = new TypeReference<>() {
    };

    private final JdbcTemplate jdbc;
    private final ObjectMapper json;
    private final QueryUpdateEmitter updates;
    private final CostReports costs;
    private final ViewNotices notices;

    public BudgetProjection(JdbcTemplate jdbc, ObjectMapper json, QueryUpdateEmitter updates, CostReports costs,
                            ViewNotices notices) {
        this.notices = notices;
        this.jdbc = jdbc;
        this.json = json;
        this.updates = updates;
        this.costs = costs;
    }

    @EventHandler
    void on(BudgetSetEvent e, EventMessage<?> message, @SequenceNumber long seq, @Timestamp Instant time) {
        jdbc.update("""
                        INSERT INTO cost_budget (budget_id, scope, name, amount, currency, period, action, crossed_period,
                            crossed_percent, created_at, updated_at, updated_by)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (budget_id) DO UPDATE SET amount = EXCLUDED.amount, currency = EXCLUDED.currency,
                            period = EXCLUDED.period, action = EXCLUDED.action, crossed_period = EXCLUDED.crossed_period,
                            crossed_percent = EXCLUDED.crossed_percent, updated_at = EXCLUDED.updated_at,
                            updated_by = EXCLUDED.updated_by""",
                e.budgetId(), e.scope().name(), e.name(), e.amount(), e.currency(), e.period().name(), e.action().name(),
                e.spentPeriod(), e.crossedPercent(), ts(time), ts(time), e.actor().id());
        history(e.budgetId(), seq, "BudgetSet", time, e.actor().id(), message);
        changed(e.budgetId(), seq, noticeOf(e, time));
    }

    @EventHandler
    void on(BudgetThresholdCrossedEvent e, EventMessage<?> message, @SequenceNumber long seq, @Timestamp Instant time) {
        jdbc.update("UPDATE cost_budget SET crossed_period = ?, crossed_percent = ?, updated_at = ? WHERE budget_id = ?",
                e.period(), e.percent(), ts(time), e.budgetId());
        history(e.budgetId(), seq, "BudgetThresholdCrossed", time, "atelier", message);
        changed(e.budgetId(), seq, noticeOf(e));
    }

    @EventHandler
    void on(BudgetReleasedEvent e, EventMessage<?> message, @SequenceNumber long seq, @Timestamp Instant time) {
        history(e.budgetId(), seq, "BudgetReleased", time, e.actor().id(), message);
        changed(e.budgetId(), seq, noticeOf(e, time));
    }

    @Override
    public Optional<Block> blocking(String owner, String team, Instant at) {
        String period = BudgetPeriod.monthOf(at).toString();
        return jdbc.query("""
                        SELECT * FROM cost_budget WHERE action = 'STOP' AND crossed_percent >= 100 AND crossed_period = ?
                        AND ((scope = 'OWNER' AND name = ?) OR (scope = 'TEAM' AND name = ?))
                        ORDER BY scope DESC, name""",
                (rs, i) -> new Block(BudgetScope.valueOf(rs.getString("scope")), rs.getString("name"),
                        CostCalculator.plain(rs.getBigDecimal("amount")),
                        rs.getString("currency"), YearMonth.parse(rs.getString("crossed_period"))),
                period, owner, team == null ? "" : team).stream().findFirst();
    }

    /** Ids of every budget (what the scheduled check goes through). */
    public List<String> budgetIds() {
        return jdbc.queryForList("SELECT budget_id FROM cost_budget ORDER BY budget_id", String.class);
    }

    /** Budgets with action stop that are used up in the period of {@code at}. */
    public List<Block> blockingAt(Instant at) {
        return jdbc.query("""
                        SELECT * FROM cost_budget WHERE action = 'STOP' AND crossed_percent >= 100 AND crossed_period = ?
                        ORDER BY budget_id""",
                (rs, i) -> new Block(BudgetScope.valueOf(rs.getString("scope")), rs.getString("name"),
                        CostCalculator.plain(rs.getBigDecimal("amount")), rs.getString("currency"),
                        YearMonth.parse(rs.getString("crossed_period"))),
                BudgetPeriod.monthOf(at).toString());
    }

    @QueryHandler
    public List<BudgetQueries.BudgetView> handle(BudgetQueries.ListBudgets query) {
        return jdbc.query("SELECT * FROM cost_budget ORDER BY scope, name", this::view);
    }

    @QueryHandler
    public Optional<BudgetQueries.BudgetDetail> handle(BudgetQueries.FindBudget query) {
        return jdbc.query("SELECT * FROM cost_budget WHERE budget_id = ?", this::view, query.budgetId()).stream()
                .findFirst().map(view -> new BudgetQueries.BudgetDetail(view, jdbc.query(
                        "SELECT * FROM cost_budget_history WHERE budget_id = ? ORDER BY seq",
                        (rs, i) -> new BudgetQueries.HistoryEntry(rs.getString("type"),
                                rs.getTimestamp("time").toInstant(), rs.getString("actor"),
                                read(rs.getString("data"))), query.budgetId())));
    }

    @QueryHandler
    public List<BudgetQueries.BudgetNotice> handle(BudgetQueries.WatchBudgets query) {
        return List.of();
    }

    private BudgetQueries.BudgetView view(ResultSet rs, int row) throws SQLException {
        Instant now = costs.now();
        YearMonth current = BudgetPeriod.monthOf(now);
        BudgetScope scope = BudgetScope.valueOf(rs.getString("scope"));
        String name = rs.getString("name");
        BigDecimal amount = CostCalculator.plain(rs.getBigDecimal("amount"));
        String currency = rs.getString("currency");
        BigDecimal spent = costs.spent(scope, name, currency, BudgetPeriod.start(current), now);
        boolean crossedNow = current.toString().equals(rs.getString("crossed_period"));
        int crossed = crossedNow ? rs.getInt("crossed_percent") : 0;
        String status = crossed >= 100 ? "EXHAUSTED" : crossed >= 80 ? "WARNING" : "OK";
        boolean blocking = crossed >= 100 && "STOP".equals(rs.getString("action"));
        return new BudgetQueries.BudgetView(rs.getString("budget_id"), scope.id(), name, amount, currency,
                rs.getString("period").toLowerCase(), rs.getString("action").toLowerCase(), current.toString(), spent,
                spent.multiply(BigDecimal.valueOf(100)).divide(amount, 1, RoundingMode.HALF_UP), status, blocking,
                blocking ? BudgetPeriod.end(current) : null, rs.getTimestamp("created_at").toInstant(),
                rs.getTimestamp("updated_at").toInstant(), rs.getString("updated_by"));
    }

    private static BudgetQueries.BudgetNotice noticeOf(BudgetSetEvent e, Instant time) {
        return new BudgetQueries.BudgetNotice("BudgetSet", e.budgetId(), e.scope().id(), e.name(), e.spentPeriod(),
                null, e.spent(), e.amount(), e.currency(), e.action().name(), time,
                (e.previousAmount() == null ? "budget set to " : "budget changed from "
                        + e.previousAmount().toPlainString() + " to ") + e.amount().toPlainString() + " " + e.currency()
                        + " per month, action " + e.action().name().toLowerCase());
    }

    private static BudgetQueries.BudgetNotice noticeOf(BudgetThresholdCrossedEvent e) {
        return new BudgetQueries.BudgetNotice("BudgetThresholdCrossed", e.budgetId(), e.scope().id(), e.name(),
                e.period(), e.percent(), e.spent(), e.amount(), e.currency(), e.action().name(), e.at(),
                e.scope().id() + " '" + e.name() + "' spent " + e.spent().toPlainString() + " " + e.currency() + " in "
                        + e.period() + ": " + e.percent() + " % of its budget of " + e.amount().toPlainString()
                        + (e.percent() >= 100 && e.action().name().equals("STOP")
                        ? "; its running workspaces are stopped and starts refused" : ""));
    }

    private static BudgetQueries.BudgetNotice noticeOf(BudgetReleasedEvent e, Instant time) {
        return new BudgetQueries.BudgetNotice("BudgetReleased", e.budgetId(), e.scope().id(), e.name(), e.period(),
                null, e.spent(), e.amount(), e.currency(), null, time,
                "starts allowed again: " + e.why());
    }

    @Override
    public String kind() {
        return VIEW_KIND;
    }

    /**
     * A budget event handled on another node (the budgets group is subscribing: it runs where the command ran): its
     * notice is rebuilt from the history entry the notice names and pushed to this node's budget streams, if any.
     */
    @Override
    public void changedElsewhere(ViewNotice notice) {
        if (notice.seq() == null || updates.activeSubscriptions().stream()
                .noneMatch(q -> q.getPayload() instanceof BudgetQueries.WatchBudgets)) {
            return;
        }
        jdbc.query("SELECT type, time, data FROM cost_budget_history WHERE budget_id = ? AND seq = ?", rs -> {
            Map<String, Object> data = new LinkedHashMap<>(read(rs.getString("data")));
            data.put("budgetId", notice.id());
            Instant time = rs.getTimestamp("time").toInstant();
            BudgetQueries.BudgetNotice rebuilt = switch (rs.getString("type")) {
                case "BudgetSet" -> noticeOf(json.convertValue(data, BudgetSetEvent.class), time);
                case "BudgetThresholdCrossed" -> noticeOf(json.convertValue(data, BudgetThresholdCrossedEvent.class));
                case "BudgetReleased" -> noticeOf(json.convertValue(data, BudgetReleasedEvent.class), time);
                default -> null;
            };
            if (rebuilt != null) {
                notice(rebuilt);
            }
        }, notice.id(), notice.seq());
    }

    /** In the command's transaction: the other nodes hear of it at commit; this node's streams get it at once. */
    private void changed(String budgetId, long seq, BudgetQueries.BudgetNotice notice) {
        notices.changed(VIEW_KIND, budgetId, seq);
        notice(notice);
    }

    private void notice(BudgetQueries.BudgetNotice notice) {
        updates.emit(BudgetQueries.WatchBudgets.class, q -> true, notice);
    }

    private void history(String budgetId, long seq, String type, Instant time, String actor, EventMessage<?> message) {
        Map<String, Object> data = new LinkedHashMap<>(json.convertValue(message.getPayload(), OBJECT_MAP));
        data.remove("budgetId");
        jdbc.update("""
                        INSERT INTO cost_budget_history (budget_id, seq, type, time, actor, data)
                        VALUES (?, ?, ?, ?, ?, ?::jsonb) ON CONFLICT DO NOTHING""",
                budgetId, seq, type, ts(time), actor, write(data));
    }

    private String write(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private Map<String, Object> read(String value) {
        try {
            return json.readValue(value, OBJECT_MAP);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static java.sql.Timestamp ts(Instant instant) {
        return java.sql.Timestamp.from(instant);
    }
}
