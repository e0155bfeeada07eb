package dev.atelier.projections.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferFactory;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

import javax.sql.DataSource;
import java.io.ByteArrayOutputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;

/**
 * Streams the entries a filter selects as JSON Lines or CSV, in constant memory for any number of rows: a
 * server-side cursor ({@code DECLARE ... CURSOR} in a read-only, repeatable-read transaction, so the export is one
 * consistent snapshot) is read {@code FETCH}-by-{@code FETCH} only as fast as the client takes the bytes
 * (Reactor backpressure). At most {@code atelier.audit.export.max-concurrent} exports run at once, each holding one
 * database connection while it streams.
 */
@Component
public class AuditExport {

    private static final Logger log = LoggerFactory.getLogger(AuditExport.class);

    public enum Format {
        JSONL("application/x-ndjson", "jsonl"), CSV("text/csv", "csv");

        private final String contentType;
        private final String extension;

        Format(String contentType, String extension) {
            this.contentType = contentType;
            this.extension = extension;
        }

        public String contentType() {
            return contentType;
        }

        public String extension() {
            return extension;
        }

        public static Format parse(String value) {
            for (Format format : values()) {
                if (format.extension.equalsIgnoreCase(value)) {
                    return format;
                }
            }
            throw new IllegalArgumentException("format " + dev.atelier.domain.shared.Text.quote(value) + " is unknown (known: jsonl, csv)");
        }
    }

    /** Too many exports are running; the caller should retry later. */
    public static class BusyException extends RuntimeException {
        public BusyException(String message) {
            super(message);
        }
    }

    private final DataSource dataSource;
    private final ObjectMapper json;
    private final int fetchSize;
    private final Semaphore running;
    private final int maxConcurrent;
    private final ObjectWriter csvRow;

    @Autowired
    public AuditExport(DataSource dataSource, ObjectMapper json,
                       @Value("${atelier.audit.export.fetch-size:500}") int fetchSize,
                       @Value("${atelier.audit.export.max-concurrent:4}") int maxConcurrent) {
        this.dataSource = dataSource;
        this.json = json;
        this.fetchSize = fetchSize;
        this.maxConcurrent = maxConcurrent;
        this.running = new Semaphore(maxConcurrent);
        CsvSchema.Builder schema = CsvSchema.builder();
        AuditEntry.CSV_COLUMNS.forEach(schema::addColumn);
        this.csvRow = new CsvMapper().writerFor(List.class).with(schema.build().withoutHeader());
    }

    /**
     * The export as a cold stream: nothing is read before subscription; cancelling (a client that goes away) closes
     * the cursor and returns the connection.
     *
     * @throws BusyException when {@code max-concurrent} exports already run
     */
    public Flux<DataBuffer> export(AuditFilter filter, boolean ascending, Format format, DataBufferFactory buffers) {
        if (running.availablePermits() == 0) {
            throw busy();
        }
        AuditFilter.Sql query = filter.select(null, ascending, null);
        // The permit is taken when the stream is subscribed and given back when it ends, fails or is cancelled, so
        // that a response that is never written cannot keep it.
        Flux<DataBuffer> rows = Flux.using(() -> {
                    if (!running.tryAcquire()) {
                        throw busy();
                    }
                    try {
                        return Cursor.open(dataSource, query, running);
                    } catch (SQLException | RuntimeException e) {
                        running.release();
                        throw e;
                    }
                },
                cursor -> {
                    Flux<DataBuffer> pages = Flux.generate(sink -> {
                        List<AuditEntry> page = cursor.fetch(fetchSize);
                        if (page.isEmpty()) {
                            sink.complete();
                        } else {
                            sink.next(buffers.wrap(encode(page, format)));
                        }
                    });
                    return format == Format.CSV
                            ? pages.startWith(Flux.defer(() -> Flux.just(buffers.wrap(csv(AuditEntry.CSV_COLUMNS)))))
                            : pages;
                },
                Cursor::close);
        return rows.subscribeOn(Schedulers.boundedElastic());
    }

    private BusyException busy() {
        return new BusyException(maxConcurrent + " exports are already running; retry when one has finished");
    }

    private byte[] encode(List<AuditEntry> page, Format format) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(page.size() * 600);
        try {
            for (AuditEntry entry : page) {
                if (format == Format.JSONL) {
                    out.write(json.writeValueAsBytes(entry));
                    out.write('\n');
                } else {
                    out.write(csv(csvValues(entry)));
                }
            }
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot encode audit entries", e);
        }
        return out.toByteArray();
    }

    private byte[] csv(List<String> values) {
        try {
            return csvRow.writeValueAsBytes(values);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<String> csvValues(AuditEntry e) {
        List<String> values = new ArrayList<>(AuditEntry.CSV_COLUMNS.size());
        values.add(Long.toString(e.seq()));
        values.add(AuditEntry.formatTime(e.time()));
        values.add(cell(e.actorId()));
        values.add(cell(e.actorType()));
        values.add(cell(e.action()));
        values.add(cell(e.phase()));
        values.add(cell(e.resourceType()));
        values.add(cell(e.resourceId()));
        values.add(cell(e.resourceName()));
        values.add(cell(e.outcome()));
        values.add(cell(e.reason()));
        values.add(e.buildNumber() == null ? "" : e.buildNumber().toString());
        values.add(e.statusCode() == null ? "" : e.statusCode().toString());
        values.add(cell(e.error()));
        values.add(cell(e.requestId()));
        values.add(cell(e.clientIp()));
        values.add(cell(e.userAgent()));
        values.add(cell(e.tokenId()));
        values.add(cell(e.diffJson()));
        values.add(cell(e.detailsJson()));
        values.add(cell(e.eventId()));
        values.add(Long.toString(e.eventIndex()));
        values.add(e.prevHash());
        values.add(e.hash());
        return values;
    }

    /**
     * Text as a spreadsheet will not run it: a cell starting with {@code = + - @}, tab or carriage return gets a
     * leading apostrophe (OWASP's advice against CSV injection; names, errors and user agents come from users).
     */
    static String cell(String value) {
        return value == null ? "" : dev.atelier.domain.shared.Text.spreadsheetSafe(value);
    }

    /** A server-side cursor on its own connection and transaction. */
    static final class Cursor {
        private static final String NAME = "atelier_audit_export";
        private final Connection connection;
        private final Semaphore permit;
        private boolean closed;

        private Cursor(Connection connection, Semaphore permit) {
            this.connection = connection;
            this.permit = permit;
        }

        static Cursor open(DataSource dataSource, AuditFilter.Sql query, Semaphore permit) throws SQLException {
            Connection connection = dataSource.getConnection();
            try {
                connection.setAutoCommit(false);
                connection.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
                connection.setReadOnly(true);
                try (PreparedStatement declare = connection.prepareStatement(
                        "DECLARE " + NAME + " NO SCROLL CURSOR FOR " + query.conditions())) {
                    List<Object> args = query.args();
                    for (int i = 0; i < args.size(); i++) {
                        declare.setObject(i + 1, args.get(i));
                    }
                    declare.execute();
                }
                return new Cursor(connection, permit);
            } catch (SQLException | RuntimeException e) {
                release(connection);
                throw e;
            }
        }

        synchronized List<AuditEntry> fetch(int rows) {
            if (closed) {
                return List.of();
            }
            List<AuditEntry> page = new ArrayList<>(rows);
            try (Statement fetch = connection.createStatement();
                 ResultSet rs = fetch.executeQuery("FETCH FORWARD " + rows + " FROM " + NAME)) {
                while (rs.next()) {
                    page.add(AuditRows.read(rs));
                }
            } catch (SQLException e) {
                throw new IllegalStateException("reading the audit export failed: " + e.getMessage(), e);
            }
            return page;
        }

        synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            try {
                release(connection);
            } finally {
                permit.release();
            }
        }

        private static void release(Connection connection) {
            try {
                connection.rollback(); // read-only: ends the transaction and the cursor with it
                connection.setReadOnly(false);
                connection.setAutoCommit(true);
            } catch (SQLException e) {
                log.debug("audit export: resetting the connection failed: {}", e.getMessage());
            } finally {
                try {
                    connection.close();
                } catch (SQLException e) {
                    log.debug("audit export: closing the connection failed: {}", e.getMessage());
                }
            }
        }
    }
}
