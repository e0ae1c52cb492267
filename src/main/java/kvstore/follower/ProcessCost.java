package kvstore.follower;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;

/**
 * What this JVM had spent at one moment: CPU, compiling and in collections. The difference of two
 * goes in a copy's last log line, because a copy into a fresh process spends as much CPU on the
 * JIT and the collector as on the copy itself (docs/benchmarks.md), and that is not visible from
 * its rate alone. Each figure is -1 where the JVM does not tell.
 */
record ProcessCost(long cpuNanos, long compileMillis, long gcMillis) {

    static ProcessCost now() {
        long cpu = -1;
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            cpu = os.getProcessCpuTime();
        }
        var jit = ManagementFactory.getCompilationMXBean();
        long compile = jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : -1;
        long gc = 0;
        for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans()) {
            long t = b.getCollectionTime();
            if (t < 0) {
                gc = -1;
                break;
            }
            gc += t;
        }
        return new ProcessCost(cpu, compile, gc);
    }

    /** "2.9 s of CPU, 1.1 s compiling, 0.5 s in collections" since {@code before}; unknown figures left out. */
    String since(ProcessCost before) {
        StringBuilder s = new StringBuilder();
        if (cpuNanos >= 0 && before.cpuNanos >= 0) s.append(seconds((cpuNanos - before.cpuNanos) / 1_000_000)).append(" of CPU");
        if (compileMillis >= 0 && before.compileMillis >= 0) sep(s).append(seconds(compileMillis - before.compileMillis)).append(" compiling");
        if (gcMillis >= 0 && before.gcMillis >= 0) sep(s).append(seconds(gcMillis - before.gcMillis)).append(" in collections");
        return s.toString();
    }

    private static StringBuilder sep(StringBuilder s) {
        return s.isEmpty() ? s : s.append(", ");
    }

    private static String seconds(long millis) {
        return String.format(java.util.Locale.ROOT, "%.1f s", Math.max(0, millis) / 1000.0);
    }
}
