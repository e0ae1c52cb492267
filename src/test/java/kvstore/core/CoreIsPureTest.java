package kvstore.core;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * STYLE.md section 1: {@code core} is pure Java. This fails if any core file imports Vert.x,
 * Netty, a logger, or reaches for the clock, randomness, files or threads.
 */
class CoreIsPureTest {
    private static final List<String> FORBIDDEN = List.of("import io.vertx", "import io.netty", "import org.slf4j",
            "System.currentTimeMillis", "System.nanoTime", "new Random", "ThreadLocalRandom", "java.io.File",
            "Files.", "new Thread", "synchronized");

    @Test
    void coreImportsOnlyTheJdk() throws IOException {
        Path core = Path.of("src/main/java/kvstore/core");
        List<String> offenders;
        try (Stream<Path> files = Files.walk(core)) {
            offenders = files.filter(p -> p.toString().endsWith(".java")).flatMap(p -> {
                try {
                    String text = Files.readString(p);
                    return FORBIDDEN.stream().filter(text::contains).map(f -> p + ": " + f);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            }).collect(Collectors.toList());
        }
        assertEquals(List.of(), offenders);
    }
}
