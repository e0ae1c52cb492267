package kvstore;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaMethodCall;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Set;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.assignableTo;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * STYLE.md sections 1 and 6: which package may use what, checked on the compiled classes of
 * {@code src/main} with ArchUnit. It replaces a scan of the sources for forbidden substrings,
 * which a fully qualified name, a static import or a {@code java.net} type slipped through.
 *
 * <ul>
 *   <li>{@code core} (and {@code core.log}, {@code core.tpc}) depends on the JDK and itself only,
 *       and within the JDK on nothing that reaches outside the process or makes a result depend on
 *       when or where it runs: no network, no files or console, no clock, no randomness, no
 *       threads, no environment. Time comes in as a parameter (STYLE.md section 2, step 3).
 *       {@code synchronized} blocks are not visible to ArchUnit and are not checked.</li>
 *   <li>{@code http} never reaches into two-phase commit ({@code core.tpc}): it turns requests
 *       into values and writes replies (STYLE.md section 2, step 1).</li>
 *   <li>No arrow up the layers: {@code app -> leader|follower -> node ->
 *       http|storage|queue|cluster|metrics|fault -> core}. Packages in one layer may use each other,
 *       except that the two roles stay independent; every package of ours must be in a layer, and
 *       the top-level packages form no cycle.</li>
 * </ul>
 *
 * <p>Method: ArchUnit imports target/classes (tests excluded) and checks each rule; a failure
 * lists every offending class, member and line. Each rule was seen to fail when broken
 * (2026-12-01): a scratch class {@code kvstore.core.Scratch} that used {@code io.vertx.core.Vertx},
 * {@code java.net.URI}, {@code java.nio.file.Files}, {@code java.io.FileInputStream},
 * {@code System.out}, {@code System.currentTimeMillis()}, {@code System.nanoTime()},
 * {@code java.time.Instant.now()}, {@code LocalDateTime.now()}, {@code java.time.Clock},
 * {@code new java.util.Random()}, {@code ThreadLocalRandom}, {@code SecureRandom},
 * {@code UUID.randomUUID()}, {@code Math.random()}, {@code new Thread}, {@code Executors},
 * {@code parallelStream()}, {@code System.getenv} and {@code kvstore.http.Guard} failed the matching
 * rules, each use named with its line;
 * {@code kvstore.http.Scratch} naming {@code kvstore.core.tpc.Batch} failed the http rule;
 * {@code kvstore.storage.Scratch} naming {@code kvstore.leader.LeaderVerticle}, and
 * {@code kvstore.core.Scratch} naming {@code kvstore.http.Guard}, failed the layers and the cycle
 * rule; {@code kvstore.leader.Scratch} naming {@code kvstore.follower.FollowerVerticle} failed the
 * roles rule; {@code kvstore.scratch.Scratch} failed the layers (in no layer). The scratch classes
 * were then deleted.
 *
 * <p>Known violations: none. The code as of 2026-12-01 passes every rule as written, so there is
 * no allow-list and no frozen store: any violation is a new one and fails the build.
 */
@Timeout(60)
class ArchitectureTest {
    private static JavaClasses main;

    @BeforeAll
    @Timeout(120)
    static void importMainClasses() {
        main = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("kvstore");
    }

    /* --- core: pure Java --- */

    @Test
    void coreDependsOnlyOnTheJdkAndItself() {
        classes().that().resideInAPackage("kvstore.core..")
                .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "kvstore.core..")
                .because("core is pure Java: no Vert.x, Netty, logging, Hazelcast or Micrometer (STYLE.md section 1)")
                .check(main);
    }

    @Test
    void coreDoesNoNetworkFileOrConsoleIo() {
        noClasses().that().resideInAPackage("kvstore.core..")
                .should().dependOnClassesThat(resideInAnyPackage("java.net..", "java.nio.file..", "java.nio.channels..")
                        .or(named(Set.of("java.io.File", "java.io.FileDescriptor", "java.io.FileInputStream", "java.io.FileOutputStream",
                                "java.io.FileReader", "java.io.FileWriter", "java.io.RandomAccessFile", "java.io.Console",
                                "java.lang.ProcessBuilder", "java.lang.Runtime"))))
                .orShould().accessField(System.class, "out")
                .orShould().accessField(System.class, "err")
                .orShould().accessField(System.class, "in")
                .because("core decides and storage, http and the roles do the I/O (STYLE.md sections 1 and 2)")
                .check(main);
    }

    @Test
    void coreReadsNoClock() {
        noClasses().that().resideInAPackage("kvstore.core..")
                .should().callMethod(System.class, "currentTimeMillis")
                .orShould().callMethod(System.class, "nanoTime")
                .orShould().callMethodWhere(DescribedPredicate.describe("a now() of java.time",
                        (JavaMethodCall c) -> c.getName().equals("now") && c.getTargetOwner().getPackageName().startsWith("java.time")))
                .orShould().dependOnClassesThat(named(Set.of("java.time.Clock", "java.time.InstantSource", "java.util.Calendar",
                        "java.util.Timer")))
                .orShould().callConstructor(java.util.Date.class)
                .because("time comes in as a parameter, as raft's Tick() (STYLE.md section 2, step 3)")
                .check(main);
    }

    @Test
    void coreUsesNoRandomness() {
        noClasses().that().resideInAPackage("kvstore.core..")
                .should().dependOnClassesThat(assignableTo(java.util.Random.class)
                        .or(named(Set.of("java.util.SplittableRandom")))
                        .or(resideInAnyPackage("java.util.random..")))
                .orShould().callMethod(java.util.UUID.class, "randomUUID")
                .orShould().callMethod(Math.class, "random")
                .orShould().callMethod(StrictMath.class, "random")
                .orShould().callMethod(java.util.Collections.class, "shuffle", java.util.List.class)
                .because("the same events give the same effects, so the simulation can replay a seed (STYLE.md sections 6 and 8)")
                .check(main);
    }

    @Test
    void coreStartsNoThreads() {
        noClasses().that().resideInAPackage("kvstore.core..")
                .should().dependOnClassesThat(assignableTo(Thread.class)
                        .or(assignableTo(ThreadGroup.class))
                        .or(assignableTo(java.util.concurrent.Executor.class))
                        .or(named(Set.of("java.util.concurrent.Executors", "java.util.concurrent.ThreadFactory",
                                "java.util.concurrent.CompletableFuture"))))
                .orShould().callMethodWhere(DescribedPredicate.describe("a parallel stream (the common fork-join pool)",
                        (JavaMethodCall c) -> c.getName().equals("parallelStream") && c.getTargetOwner().isAssignableTo(java.util.Collection.class)
                                || c.getName().equals("parallel") && c.getTargetOwner().getPackageName().equals("java.util.stream")))
                .because("the verticle that owns a state machine is its only writer (STYLE.md section 2, step 5)")
                .check(main);
    }

    @Test
    void coreReadsNoEnvironment() {
        noClasses().that().resideInAPackage("kvstore.core..")
                .should().callMethod(System.class, "getenv")
                .orShould().callMethod(System.class, "getenv", String.class)
                .orShould().callMethod(System.class, "getProperty", String.class)
                .orShould().callMethod(System.class, "getProperty", String.class, String.class)
                .orShould().callMethod(System.class, "getProperties")
                .orShould().callMethod(Integer.class, "getInteger", String.class)
                .orShould().callMethod(Long.class, "getLong", String.class)
                .orShould().callMethod(Boolean.class, "getBoolean", String.class)
                .because("settings come in as values that app resolved (STYLE.md section 8)")
                .check(main);
    }

    /* --- http: no protocol --- */

    @Test
    void httpNeverReachesIntoTwoPhaseCommit() {
        noClasses().that().resideInAPackage("kvstore.http..")
                .should().dependOnClassesThat().resideInAPackage("kvstore.core.tpc..")
                .because("http turns a request into a value and writes a reply; 2PC is the roles' and core.tpc's (STYLE.md section 2)")
                .check(main);
    }

    /* --- layers --- */

    @Test
    void noArrowUpTheLayers() {
        layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("app").definedBy("kvstore.app..")
                .layer("roles").definedBy("kvstore.leader..", "kvstore.follower..")
                .layer("node").definedBy("kvstore.node..")
                .layer("services").definedBy("kvstore.http..", "kvstore.storage..", "kvstore.queue..", "kvstore.cluster..",
                        "kvstore.metrics..", "kvstore.fault..")
                .layer("core").definedBy("kvstore.core..")
                .whereLayer("app").mayNotBeAccessedByAnyLayer()
                .whereLayer("roles").mayOnlyBeAccessedByLayers("app")
                .whereLayer("node").mayOnlyBeAccessedByLayers("app", "roles")
                .whereLayer("services").mayOnlyBeAccessedByLayers("app", "roles", "node")
                .whereLayer("core").mayOnlyBeAccessedByLayers("app", "roles", "node", "services")
                .ensureAllClassesAreContainedInArchitecture()
                .because("dependencies point one way: app -> leader|follower -> node -> http|storage|queue|cluster|metrics|fault -> core"
                        + " (STYLE.md section 1)")
                .check(main);
    }

    @Test
    void theTwoRolesAreIndependent() {
        noClasses().that().resideInAPackage("kvstore.leader..")
                .should().dependOnClassesThat().resideInAPackage("kvstore.follower..")
                .because("what both roles share lives below them, in node or a service package")
                .check(main);
        noClasses().that().resideInAPackage("kvstore.follower..")
                .should().dependOnClassesThat().resideInAPackage("kvstore.leader..")
                .because("what both roles share lives below them, in node or a service package")
                .check(main);
    }

    @Test
    void topLevelPackagesFormNoCycle() {
        slices().matching("kvstore.(*)..").should().beFreeOfCycles().check(main);
    }

    private static DescribedPredicate<JavaClass> named(Set<String> names) {
        return DescribedPredicate.describe("one of " + names, (JavaClass c) -> names.contains(c.getName()));
    }
}
