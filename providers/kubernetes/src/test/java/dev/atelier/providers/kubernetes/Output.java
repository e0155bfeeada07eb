package dev.atelier.providers.kubernetes;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/** Everything a stream gives, read on a thread of its own until its end (the kubernetes shell tests). */
final class Output {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private volatile boolean ended;

    static Output of(InputStream in) {
        Output output = new Output();
        Thread reader = new Thread(() -> {
            byte[] buffer = new byte[4096];
            try {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    synchronized (output.bytes) {
                        output.bytes.write(buffer, 0, n);
                    }
                }
            } catch (IOException e) {
                // ended by a close
            }
            output.ended = true;
        }, "test-output");
        reader.setDaemon(true);
        reader.start();
        return output;
    }

    String text() {
        synchronized (bytes) {
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }

    byte[] bytes() {
        synchronized (bytes) {
            return bytes.toByteArray();
        }
    }

    boolean ended() {
        return ended;
    }
}
