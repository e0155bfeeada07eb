package dev.atelier.cli;

import picocli.CommandLine;

import java.time.Duration;
import java.util.Locale;

/** Durations as people type them: {@code 90s}, {@code 10m}, {@code 1h}, or ISO-8601 ({@code PT10M}). */
final class Durations implements CommandLine.ITypeConverter<Duration> {

    @Override
    public Duration convert(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        try {
            if (v.startsWith("p")) {
                return Duration.parse(v.toUpperCase(Locale.ROOT));
            }
            long amount = Long.parseLong(v.substring(0, v.length() - 1));
            return switch (v.charAt(v.length() - 1)) {
                case 's' -> Duration.ofSeconds(amount);
                case 'm' -> Duration.ofMinutes(amount);
                case 'h' -> Duration.ofHours(amount);
                default -> throw new CommandLine.TypeConversionException("a duration is like 90s, 10m, 1h or PT10M");
            };
        } catch (RuntimeException e) {
            if (e instanceof CommandLine.TypeConversionException t) {
                throw t;
            }
            throw new CommandLine.TypeConversionException("a duration is like 90s, 10m, 1h or PT10M");
        }
    }
}
