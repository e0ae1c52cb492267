package kvstore.testing.netlab;

import kvstore.testing.netlab.LabClient.Call;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * One scenario as a picture (plain SVG, no library): operations per 100 ms against time, by
 * outcome (acknowledged, refused, unknown), each counted when its answer came (an unknown one
 * when the client gave up), the fault windows shaded and labelled, and events (a takeover, a heal)
 * as labelled vertical lines.
 */
public final class Chart {
    private Chart() {}

    public record Marker(String label, long atMs) {}

    static final int W = 1000, H = 440, LEFT = 64, RIGHT = 24, TOP = 64, BOTTOM = 56;
    static final long BUCKET_MS = 100;

    public static Path write(Path file, String title, History h, long fromMs, long toMs, List<History.Fault> faults,
                             List<Marker> markers) throws IOException {
        int n = (int) Math.max(1, (toMs - fromMs + BUCKET_MS - 1) / BUCKET_MS);
        int[] acked = new int[n], refused = new int[n], unknown = new int[n];
        for (Call c : h.calls) {
            int b = (int) ((c.retUs() / 1000 - fromMs) / BUCKET_MS);
            if (b < 0 || b >= n) continue;
            if (!c.answered()) unknown[b]++;
            else if (c.served()) acked[b]++;
            else refused[b]++;
        }
        int max = 1;
        for (int i = 0; i < n; i++) max = Math.max(max, Math.max(acked[i], Math.max(refused[i], unknown[i])));
        int yMax = niceCeil(max);
        double pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
        double seconds = (toMs - fromMs) / 1000.0;

        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                + "font-family=\"sans-serif\" font-size=\"12\">%n", W, H, W, H));
        s.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"22\" font-size=\"15\" font-weight=\"bold\">%s</text>%n", LEFT, esc(title)));

        // Fault windows, shaded, labelled at the top (staggered so neighbours do not collide).
        int k = 0;
        for (History.Fault f : faults) {
            double x0 = LEFT + pw * Math.max(0, f.startMs() - fromMs) / (toMs - fromMs);
            double x1 = LEFT + pw * Math.min(toMs - fromMs, f.endMs() - fromMs) / (toMs - fromMs);
            s.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%.1f\" fill=\"#f2b8b5\" fill-opacity=\"0.45\"/>%n",
                    x0, TOP, Math.max(1, x1 - x0), ph));
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" fill=\"#8c1d18\">%s</text>%n", x0 + 3, TOP + 14 + 14 * (k++ % 2),
                    esc(f.label())));
        }

        // Grid and axes.
        for (int i = 0; i <= 5; i++) {
            double y = TOP + ph - ph * i / 5.0;
            s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>%n", LEFT, y, LEFT + pw, y));
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%d</text>%n", LEFT - 6, y + 4, yMax * i / 5));
        }
        int step = seconds <= 30 ? 5 : seconds <= 90 ? 10 : 30;
        for (int t = 0; t <= seconds; t += step) {
            double x = LEFT + pw * t / seconds;
            s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>%n", x, TOP + ph, x, TOP + ph + 5));
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%d</text>%n", x, TOP + ph + 18, t));
        }
        s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%.1f\" stroke=\"#333\"/>%n", LEFT, TOP, LEFT, TOP + ph));
        s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>%n", LEFT, TOP + ph, LEFT + pw, TOP + ph));
        s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">time since the clients started (s)</text>%n",
                LEFT + pw / 2, H - 14));
        s.append(String.format(Locale.ROOT, "<text transform=\"translate(18 %.1f) rotate(-90)\" text-anchor=\"middle\">operations per 100 ms</text>%n",
                TOP + ph / 2));

        // Event markers.
        for (Marker m : markers) {
            if (m.atMs() < fromMs || m.atMs() > toMs) continue;
            double x = LEFT + pw * (m.atMs() - fromMs) / (toMs - fromMs);
            s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#555\" stroke-dasharray=\"4 3\"/>%n",
                    x, TOP, x, TOP + ph));
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#333\" font-size=\"11\" transform=\"rotate(-90 %.1f %.1f)\">%s</text>%n",
                    x - 3, TOP + ph - 4, x - 3, TOP + ph - 4, esc(m.label())));
        }

        // The three series.
        series(s, acked, "#1a7f37", yMax, pw, ph);
        series(s, refused, "#cf222e", yMax, pw, ph);
        series(s, unknown, "#9a6700", yMax, pw, ph);

        // Legend.
        String[][] legend = {{"#1a7f37", "acknowledged (2xx, or \"no key\" for a GET or DELETE)"}, {"#cf222e", "refused (500, 503)"},
                {"#9a6700", "unknown outcome (no answer in time)"}, {"#f2b8b5", "fault window"}};
        double lx = LEFT;
        for (String[] l : legend) {
            s.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"34\" width=\"14\" height=\"10\" fill=\"%s\"/>%n", lx, l[0]));
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"44\">%s</text>%n", lx + 18, esc(l[1])));
            lx += 30 + 6.9 * l[1].length();
        }
        s.append("</svg>\n");
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, s, StandardCharsets.UTF_8);
        return file.toAbsolutePath();
    }

    private static void series(StringBuilder s, int[] v, String color, int yMax, double pw, double ph) {
        StringBuilder pts = new StringBuilder();
        double bw = pw / v.length;
        for (int i = 0; i < v.length; i++) {
            double y = TOP + ph - ph * v[i] / yMax;
            pts.append(String.format(Locale.ROOT, "%.1f,%.1f %.1f,%.1f ", LEFT + bw * i, y, LEFT + bw * (i + 1), y));
        }
        s.append(String.format(Locale.ROOT, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"%s\"/>%n", color, pts.toString().trim()));
    }

    static int niceCeil(int v) {
        int[] steps = {1, 2, 5};
        for (int m = 1; ; m *= 10) for (int st : steps) if (st * m * 5 >= v) return st * m * 5;
    }

    static String esc(String t) {
        return t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
