package kvstore.it;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import kvstore.core.Errors;
import kvstore.testing.Await;
import kvstore.testing.Browser;
import kvstore.testing.Http;
import kvstore.testing.JarNode;
import kvstore.testing.Ports;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The web client in a real browser (SPEC.md sections 2, 3 and 6: the page at {@code /}, keys
 * and values shown as text; sections 10 and 11: the membership, versions, conditional writes and
 * transactions): headless Chromium driven by Selenium against the fat jar's embedded default (a
 * leader and three followers in one process, on free ports), and, for the credentials, a second
 * embedded cluster with a secret and a client token, and for the membership a third, whose
 * shape its test changes through the console.
 *
 * <p>Method: each test clicks and types as a person would and waits (bounded, polling) for what
 * the page shows; the expected values come from the node's own API over plain HTTP, not from
 * the page. Each test leaves a full-page screenshot in {@code target/screenshots/}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebClientIT {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Path SHOTS = Path.of("target", "screenshots");

    @TempDir
    static Path dir;

    private JarNode cluster;
    private int base;
    private String leader;
    private Browser browser;

    @BeforeAll
    void start() throws Exception {
        if (!Browser.available()) {
            fail("the browser tests need " + Browser.CHROMIUM + " and " + Browser.CHROMEDRIVER
                    + ": run ./test.sh, or apt-get install chromium chromium-driver");
        }
        base = Ports.freeRange(4);
        leader = "http://127.0.0.1:" + base;
        cluster = JarNode.start(dir.resolve("cluster"), Map.of(), "--port", String.valueOf(base));
        browser = Browser.start(dir.resolve("chrome-profile")); // starts while the cluster boots
        cluster.awaitOutput("listening on http://127.0.0.1:", 4, Duration.ofSeconds(60));
        Await.until("leader ready", Duration.ofSeconds(30), () -> Http.get(leader + "/api/health").status() == 200);
    }

    @AfterAll
    void stop() throws Exception {
        if (browser != null) browser.close();
        if (cluster != null) {
            cluster.stdin("q");
            cluster.waitFor(Duration.ofSeconds(30));
        }
    }

    @BeforeEach
    void resetWindow() {
        browser.size(1280, 1000);
    }

    @AfterEach
    void screenshot(TestInfo info) throws Exception {
        browser.screenshot(SHOTS.resolve(info.getTestMethod().orElseThrow().getName() + ".png"));
    }

    /* --- The seed's page --- */

    /** SPEC.md section 2 through the page: PUT answers 201, GET 200 with the value, both green; the live counters move. */
    @Test
    void putThenGetThroughTheButtonsShows201Then200WithTheValue() {
        openLeader();
        assertEquals("TPCLeader", browser.byId("role").getText());
        assertEquals("127.0.0.1:" + base, browser.byId("node").getText());
        assertEquals(List.of("REGISTER", "GET", "PUT", "DELETE"), texts("#buttons button"));
        long commitsBefore = Long.parseLong(awaitStat("commits"));

        type("key", "greeting");
        type("value", "hello, world");
        WebElement put = press("btn-put");
        assertEntry(put, "PUT", "/?key=greeting&val=hello%2C%20world", 201, "hello, world"); // SPEC.md section 2: the value

        WebElement get = press("btn-get");
        assertEntry(get, "GET", "/?key=greeting", 200, "hello, world");
        assertEquals(get, browser.css("#log li:first-child"), "newest first");
        assertEquals(2, browser.all("#log li").size());
        assertReadable(get);

        browser.await("the commit counter moves", WAIT, d -> Long.parseLong(stat("commits")) >= commitsBefore + 1);
        browser.byId("clear").click();
        assertEquals(0, browser.all("#log li").size(), "Clear empties the log");
    }

    /** SPEC.md section 2: DELETE of an absent key is 500 error: no key, shown red. */
    @Test
    void deleteOfAnAbsentKeyShowsTheRedNoKeyError() {
        openLeader();
        type("key", "never-written");
        WebElement del = press("btn-delete");
        assertEntry(del, "DELETE", "/?key=never-written", 500, Errors.NO_KEY);
        assertReadable(del);
        String colour = (String) browser.js("return getComputedStyle(arguments[0]).color;", del);
        int[] rgb = rgb(colour);
        assertTrue(rgb[0] > rgb[1] + 60 && rgb[0] > rgb[2] + 60, "an error is red, not " + colour);
    }

    /** The seed's keyboard path: Enter in Value puts, Enter in Key gets; labels, focus outlines, no overflow on a phone. */
    @Test
    void onAPhoneSizedScreenTheKeyboardWorksAndNothingOverflows() throws Exception {
        browser.size(390, 844);
        openLeader();
        assertNoHorizontalScroll();
        Boolean labelled = (Boolean) browser.js("return [...document.querySelectorAll('input, select')].every((i) => i.labels.length > 0);");
        assertTrue(labelled, "every field has a label");

        int before = logSize();
        browser.byId("key").click();
        browser.byId("key").sendKeys("typed-on-a-phone", Keys.TAB, "by keyboard", Keys.ENTER);
        WebElement put = newestAfter(before);
        assertEntry(put, "PUT", "/?key=typed-on-a-phone&val=by%20keyboard", 201, "by keyboard");

        before = logSize();
        browser.byId("key").sendKeys(Keys.ENTER);
        assertEntry(newestAfter(before), "GET", "/?key=typed-on-a-phone", 200, "by keyboard");

        browser.byId("value").sendKeys(Keys.TAB); // onto the first button
        WebElement focused = browser.driver.switchTo().activeElement();
        assertEquals("REGISTER", focused.getText());
        assertEquals("solid", focused.getCssValue("outline-style"), "a visible focus outline");
        assertEquals("3px", focused.getCssValue("outline-width"));

        openFollower(base + 1);
        assertNoHorizontalScroll();
        browser.screenshot(SHOTS.resolve("phone-follower.png"));
        openLeader();
    }

    /* --- The leader's live view --- */

    /** SPEC.md section 2 (followers are checked every 2 s, down after 3 misses): the list shows a killed follower down, then up. */
    @Test
    void theFollowerListShowsAKilledFollowerDownAndUpAgain() throws Exception {
        int port = base + 2;
        openLeader();
        WebElement row = followerRow(port);
        browser.await("follower " + port + " up", WAIT, d -> "true".equals(row.getAttribute("data-up")));
        assertEquals("● up", row.findElement(org.openqa.selenium.By.className("state")).getText());
        String id = row.getAttribute("data-id");

        long killed = System.nanoTime();
        cluster.stdin("k " + port);
        cluster.awaitOutput("killed follower " + port, Duration.ofSeconds(30));
        browser.await("follower " + port + " shown down", Duration.ofSeconds(20), d -> "false".equals(followerRow(port).getAttribute("data-up")));
        long downMillis = (System.nanoTime() - killed) / 1_000_000;
        assertEquals("○ down", followerRow(port).findElement(org.openqa.selenium.By.className("state")).getText());
        browser.await("its ring point hollow", WAIT, d -> browser.css("#ring .pt[data-id='" + id + "']").getAttribute("class").contains("down"));
        assertEquals("2 of 3", stat("up"));
        browser.screenshot(SHOTS.resolve("leader-follower-down.png"));

        long restarted = System.nanoTime();
        cluster.stdin("r " + port);
        cluster.awaitOutput("restarted follower " + port, Duration.ofSeconds(60));
        browser.await("follower " + port + " shown up again", Duration.ofSeconds(20), d -> "true".equals(followerRow(port).getAttribute("data-up")));
        long upMillis = (System.nanoTime() - restarted) / 1_000_000;
        assertEquals("3 of 3", browser.await("all up", WAIT, d -> "3 of 3".equals(stat("up")) ? stat("up") : null));
        System.out.printf("WebClientIT: follower shown down %d ms after the kill, up %d ms after the restart%n", downMillis, upMillis);
    }

    /** SPEC.md section 4: the ring puts each point where its 64-bit value says and highlights the replicas /api/placement names. */
    @Test
    void theRingHighlightsTheReplicasThatPlacementNames() throws Exception {
        openLeader();
        browser.await("the ring drawn", WAIT, d -> browser.all("#ring .pt").size() == 3 ? true : null);
        JsonObject first = placement("apple");
        String other = null;
        for (int i = 0; other == null && i < 200; i++) {
            JsonObject p = placement("fruit-" + i);
            if (!primary(p).equals(primary(first))) other = "fruit-" + i;
        }
        assertNotNull(other, "some key has another primary");

        for (String key : List.of("apple", other)) {
            type("key", key);
            browser.await("the placement of " + key, WAIT, d ->
                    key.equals(browser.byId("placement").getAttribute("data-key")) && "ok".equals(browser.byId("placement").getAttribute("data-state")) ? true : null);
            JsonObject expected = placement(key);
            JsonArray replicas = expected.getJsonArray("replicas");
            List<WebElement> marks = browser.all("#ring .replica");
            assertEquals(replicas.size(), marks.size(), "one highlight per replica");
            for (int i = 0; i < replicas.size(); i++) {
                assertEquals(replicas.getJsonObject(i).getString("id"), marks.get(i).getAttribute("data-id"), "replica " + (i + 1) + " of " + key);
                assertEquals(String.valueOf(i + 1), marks.get(i).getAttribute("data-rank"));
                String address = replicas.getJsonObject(i).getString("host") + ":" + replicas.getJsonObject(i).getInteger("port");
                assertTrue(texts("#replicas li").get(i).startsWith(address), "the list names " + address);
            }
            WebElement mark = browser.css("#ring .keymark");
            assertEquals(expected.getString("hash"), mark.getAttribute("data-hash"));
            assertAt(mark, expected.getString("hash"));
            assertTrue(browser.byId("placement-text").getText().contains(expected.getString("hash")));
            for (WebElement pt : browser.all("#ring .pt")) assertAt(pt, pt.getAttribute("data-point"));
            List<String> bold = new ArrayList<>();
            for (WebElement li : browser.all("#legend li.is-replica")) bold.add(li.getAttribute("data-id"));
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < replicas.size(); i++) ids.add(replicas.getJsonObject(i).getString("id"));
            assertEquals(ids.stream().sorted().toList(), bold.stream().sorted().toList(), "the legend marks the replicas");
        }
        // Some traffic in the log for the README's screenshot.
        type("value", "in season");
        assertEntry(press("btn-put"), "PUT", "/?key=" + other + "&val=in%20season", 201, "in season");
        assertEntry(press("btn-get"), "GET", "/?key=" + other, 200, "in season");
        browser.screenshot(SHOTS.resolve("leader.png"));
    }

    /** The key browser: prefix filter and paging through /api/keys, in UTF-8 byte order; a key picked fills the Key field. */
    @Test
    void theKeyBrowserPagesThroughKeysWithAPrefix() {
        for (int i = 0; i < 23; i++) assertEquals(201, Http.put(leader + "/?key=" + Http.enc(String.format("page/%02d", i)) + "&val=v").status());
        openLeader();
        type("prefix", "page/");
        new org.openqa.selenium.support.ui.Select(browser.byId("limit")).selectByVisibleText("10");
        browser.byId("prefix").sendKeys(Keys.ENTER);
        assertEquals(range(0, 10), awaitKeys("Page 1: 10 keys"));
        browser.byId("keys-next").click();
        assertEquals(range(10, 20), awaitKeys("Page 2: 10 keys"));
        browser.byId("keys-next").click();
        assertEquals(range(20, 23), awaitKeys("Page 3: 3 keys"));
        assertFalse(browser.byId("keys-next").isEnabled(), "the last page");
        browser.byId("keys-prev").click();
        assertEquals(range(10, 20), awaitKeys("Page 2: 10 keys"));

        browser.css("#keys li:first-child button").click();
        assertEquals("page/10", browser.byId("key").getAttribute("value"));
        browser.await("the ring shows the picked key", WAIT, d -> "page/10".equals(browser.byId("placement").getAttribute("data-key")) ? true : null);
    }

    /* --- Text, never markup (SPEC.md section 6) --- */

    @Test
    void markupInAKeyOrValueIsShownAsText() {
        String key = "<img src=x onerror=alert(1)>";
        String value = "<script>alert(2)</script><b>bold</b>";
        openLeader();
        type("key", key);
        type("value", value);
        assertEquals("201", press("btn-put").getAttribute("data-status"));
        WebElement get = press("btn-get");
        assertEquals(value, get.findElement(org.openqa.selenium.By.className("body")).getText());

        type("prefix", "<img");
        browser.byId("keys-go").click();
        browser.await("the key listed", WAIT, d -> texts("#keys li").contains(key) ? true : null);
        browser.await("its placement", WAIT, d -> key.equals(browser.byId("placement").getAttribute("data-key")) ? true : null);

        // The same key on a follower's page: its key list and its prepared transactions.
        int follower = firstReplicaPort(key);
        assertEquals(202, Http.put("http://127.0.0.1:" + follower + "/?key=" + Http.enc(key + "!") + "&val=" + Http.enc(value)).status());
        openFollower(follower);
        browser.await("the manual transaction", WAIT, d -> browser.all("#pending li[data-tx='manual']").size() == 1 ? true : null);
        assertEquals(key + "!", browser.css("#pending li[data-tx='manual'] .key").getText());
        assertEquals(value, browser.css("#pending li[data-tx='manual'] .value").getText());
        type("prefix", "<img");
        browser.byId("keys-go").click();
        browser.await("the key listed on the follower", WAIT, d -> texts("#keys li").contains(key) ? true : null);
        browser.css("#pending li[data-tx='manual'] button.abort").click();
        browser.await("aborted", WAIT, d -> browser.all("#pending li[data-tx='manual']").isEmpty() ? true : null);

        assertEquals(List.of(), browser.js("return window.__dialogs;"), "no dialog opened");
        assertEquals(List.of(), browser.js("return window.__markup;"), "no element made from data");
        assertEquals(0L, browser.js("return document.querySelectorAll('img').length;"));
    }

    /* --- A follower's page --- */

    /** SPEC.md section 3 and PROTOCOL.md "Manual slot": a hand-made prepare is committed (and another aborted) from the follower's page. */
    @Test
    void aFollowersManualTransactionIsCommittedFromItsPage() throws Exception {
        int port = base + 1;
        String f = "http://127.0.0.1:" + port;
        // A key the ring gives this follower: the leader's follower keeps only those (SPEC.md
        // section 10), and a key committed by hand outside them reads as absent.
        String handKey = keyHeldBy(port, "held-by-hand");
        assertEquals(202, Http.put(f + "/?key=" + handKey + "&val=" + Http.enc("from curl")).status(), "phase 1 into the manual slot");
        openFollower(port);
        assertEquals("TPCFollower", browser.byId("role").getText());
        assertEquals(List.of("GET", "PUT", "DELETE", "COMMIT", "ABORT"), texts("#buttons button"));
        WebElement row = browser.await("the prepared transaction", WAIT, d -> browser.all("#pending li[data-tx='manual']").isEmpty() ? null
                : browser.css("#pending li[data-tx='manual']"));
        assertEquals(List.of("manual", "PUT", handKey, "from curl"), texts(row, ".txid, .op, .key, .value"));

        int before = logSize();
        row.findElement(org.openqa.selenium.By.cssSelector("button.commit")).click();
        assertEntry(newestAfter(before), "POST", "/commit", 204, "");
        browser.await("no longer pending", WAIT, d -> browser.all("#pending li").isEmpty() ? true : null);
        assertEquals(200, Http.get(f + "/?key=" + handKey).status());
        assertEquals("from curl", Http.get(f + "/?key=" + handKey).body());
        browser.await("listed as changed by hand", WAIT, d -> texts("#hand li").contains(handKey) ? true : null);

        // The seed's way: PUT then ABORT with the page's own buttons.
        type("key", "by-hand-2");
        type("value", "never");
        assertEntry(press("btn-put"), "PUT", "/?key=by-hand-2&val=never", 202, "commit");
        browser.await("pending", WAIT, d -> browser.all("#pending li[data-tx='manual']").size() == 1 ? true : null);
        browser.screenshot(SHOTS.resolve("follower.png"));
        assertEntry(press("btn-abort"), "POST", "/abort", 204, "");
        assertEntry(press("btn-get"), "GET", "/?key=by-hand-2", 500, Errors.NO_KEY);
        assertTrue(browser.byId("follower-stats").getText().contains("B"), "the log size is shown");
    }

    /**
     * SPEC.md section 3: a leader's prepared transaction is decided from the follower's page with
     * its tx and the follower's epoch. A follower whose leader is not running keeps it prepared
     * (a running leader would abort a transaction it never started), so this test runs one alone.
     */
    @Test
    void aLeadersPreparedTransactionIsDecidedWithItsEpochFromTheFollowersPage() throws Exception {
        int port = Ports.free();
        int noLeader = Ports.free();
        String f = "http://127.0.0.1:" + port;
        try (JarNode lone = JarNode.start(dir.resolve("lone"), Map.of(), "follower", String.valueOf(port), String.valueOf(noLeader))) {
            lone.awaitOutput("listening on " + f, Duration.ofSeconds(60));
            Await.until("prepared tx 7.1", Duration.ofSeconds(20), () -> Http.put(f + "/?key=from-a-leader&val=" + Http.enc("decided here") + "&tx=7.1&epoch=7").status() == 202);
            assertEquals(202, Http.put(f + "/?key=from-a-leader-2&val=x&tx=7.2&epoch=7").status());

            browser.open(f + "/");
            browser.await("both prepared transactions", WAIT, d -> browser.all("#pending li").size() == 2 ? true : null);
            assertEquals("7", followerStat("epoch"));
            assertEquals("tx 7.1", browser.css("#pending li[data-tx='7.1'] .txid").getText());

            int before = logSize();
            browser.css("#pending li[data-tx='7.1'] button.commit").click();
            assertEntry(newestAfter(before), "POST", "/commit?tx=7.1&epoch=7", 204, "");
            before = logSize();
            browser.css("#pending li[data-tx='7.2'] button.abort").click();
            assertEntry(newestAfter(before), "POST", "/abort?tx=7.2&epoch=7", 204, "");
            browser.await("nothing pending", WAIT, d -> browser.all("#pending li").isEmpty() ? true : null);

            type("key", "from-a-leader");
            assertEntry(press("btn-get"), "GET", "/?key=from-a-leader", 200, "decided here");
            type("key", "from-a-leader-2");
            assertEntry(press("btn-get"), "GET", "/?key=from-a-leader-2", 500, Errors.NO_KEY);
        }
    }

    /* --- Credentials (SPEC.md section 6) --- */

    /** With a secret and a client token: the pages ask for them, keep them in sessionStorage only, and send them. */
    @Test
    void withASecretAndATokenThePagesAskForThemAndSendThem() throws Exception {
        int b = Ports.freeRange(2);
        String l = "http://127.0.0.1:" + b;
        try (JarNode secured = JarNode.start(dir.resolve("secured"), Map.of("KVSTORE_SECRET", "s3cret", "KVSTORE_TOKEN", "t0ken"),
                "--port", String.valueOf(b), "--followers", "1", "--redundancy", "1")) {
            secured.awaitOutput("listening on http://127.0.0.1:", 2, Duration.ofSeconds(60));
            Await.until("secured leader ready", Duration.ofSeconds(30), () -> Http.get(l + "/api/health").status() == 200);

            browser.open(l + "/");
            browser.await("the leader's page", WAIT, d -> "leader".equals(browser.css("body").getAttribute("data-role")) ? true : null);
            type("key", "guarded");
            type("value", "yes");
            assertEntry(press("btn-put"), "PUT", "/?key=guarded&val=yes", 401, Errors.UNAUTHORIZED);
            assertTrue(browser.byId("auth").getAttribute("open") != null, "the credentials open on a 401");
            type("token", "t0ken");
            browser.byId("auth-save").click();
            assertEntry(press("btn-put"), "PUT", "/?key=guarded&val=yes", 201, "yes");
            assertEntry(press("btn-get"), "GET", "/?key=guarded", 200, "yes");
            assertEquals("t0ken", browser.js("return sessionStorage.getItem('kvstore.token');"));
            assertEquals(0L, browser.js("return localStorage.length;"), "never in localStorage");

            browser.open("http://127.0.0.1:" + (b + 1) + "/");
            browser.await("the follower's page, asking", WAIT, d -> browser.byId("auth").getAttribute("open") != null ? true : null);
            assertEquals("TPCFollower", browser.byId("role").getText());
            assertFalse(browser.byId("banner").getText().isEmpty(), "it says why");
            browser.screenshot(SHOTS.resolve("follower-asks-for-the-secret.png"));
            type("secret", "s3cret");
            browser.byId("secret").sendKeys(Keys.ENTER);
            browser.await("the follower's status", WAIT, d -> "1".equals(followerStat("keys")) ? true : null);
            type("key", "guarded");
            assertEntry(press("btn-get"), "GET", "/?key=guarded", 200, "yes");
            assertEquals("s3cret", browser.js("return sessionStorage.getItem('kvstore.secret');"));
            assertEquals(0L, browser.js("return localStorage.length;"));
            browser.byId("auth").findElement(org.openqa.selenium.By.tagName("summary")).click();
            browser.byId("auth-forget").click();
            assertEquals(null, browser.js("return sessionStorage.getItem('kvstore.secret');"));
        }
    }

    /* --- Load, offline, and the pure helpers --- */

    /** The page loads only from its node (works offline), fast and small. */
    @Test
    void thePageLoadsFastFromItsNodeAlone() {
        browser.open("about:blank");
        openLeader();
        Map<?, ?> m = (Map<?, ?>) browser.js("""
                const nav = performance.getEntriesByType('navigation')[0];
                const res = performance.getEntriesByType('resource');
                const ready = performance.getEntriesByName('kvstore-ready')[0];
                return {
                  load: nav.loadEventEnd, dcl: nav.domContentLoadedEventEnd, ready: ready ? ready.startTime : -1,
                  bytes: nav.decodedBodySize + res.reduce((s, r) => s + r.decodedBodySize, 0),
                  foreign: res.filter((r) => !r.name.startsWith(location.origin)).map((r) => r.name),
                  files: 1 + res.filter((r) => r.initiatorType !== 'fetch').length
                };""");
        System.out.println("WebClientIT: page load " + m);
        assertEquals(List.of(), m.get("foreign"), "nothing from another origin");
        assertTrue(((Number) m.get("load")).doubleValue() < 3000, "loaded within 3 s: " + m);
        assertTrue(((Number) m.get("ready")).doubleValue() > 0, "the first status was shown: " + m);
        assertTrue(((Number) m.get("bytes")).longValue() < 150_000, "small: " + m);
    }

    /** lib.js in the browser itself: ring positions with BigInt, the ring walk, Prometheus text, rates, query encoding. */
    @Test
    void thePureHelpersWorkInTheBrowser() {
        openLeader();
        Object r = browser.driver.executeAsyncScript("""
                const done = arguments[arguments.length - 1];
                import('/lib.js').then((m) => {
                  const ring = [{point: '10', id: 'a'}, {point: '20', id: 'b'}, {point: '30', id: 'c'}];
                  const vn = [{point: '10', id: 'a'}, {point: '40', id: 'a'}, {point: '20', id: 'b'}, {point: '30', id: 'c'}];
                  const ids = (w) => w.map((x) => x.id + '@' + x.point).join(' ');
                  let overflow = 'no error';
                  try { m.turn('18446744073709551616'); } catch (e) { overflow = e.name; }
                  const prom = m.parsePrometheus('# HELP x\\n# TYPE kvstore_requests_total counter\\n'
                    + 'kvstore_requests_total{type="get",status="200",} 5.0\\nkvstore_requests_total{type="put",status="201",} 7.0\\n'
                    + 'kvstore_requests_total{type="put",status="500",} 1.0\\nvertx_http_server_requests_total{code="200"} 99\\n'
                    + 'kvstore_request_seconds_bucket{type="get",le="0.1",} 3.0\\nbad line\\n');
                  const counts = m.requestCounts(prom);
                  done({
                    t0: m.turn('0'), tHalf: m.turn('9223372036854775808'), tMax: m.turn('18446744073709551615'), overflow,
                    w25: ids(m.walk(ring, '25', 2)), w30: ids(m.walk(ring, '30', 2)), w5: ids(m.walk(ring, '5', 3)),
                    w35: ids(m.walk(vn, '35', 2)), wBig: ids(m.walk(ring, '18446744073709551615', 1)),
                    total: counts.total, put: counts.byType.put, none: m.requestCounts(m.parsePrometheus('up 1\\n')),
                    rate: m.rate({t: 1000, v: 10}, {t: 3000, v: 30}), reset: m.rate({t: 1000, v: 10}, {t: 2000, v: 3}),
                    q: m.query({key: 'a+b&c d', val: 'ü', tx: undefined}), bytes: m.bytes(88211)
                  });
                }).catch((e) => done('import failed: ' + e));""");
        Map<?, ?> m = (Map<?, ?>) r;
        assertEquals(0L, ((Number) m.get("t0")).longValue());
        assertEquals(0.5, ((Number) m.get("tHalf")).doubleValue());
        double tMax = ((Number) m.get("tMax")).doubleValue();
        assertTrue(tMax < 1 && tMax > 0.999999, "2^64-1 is just short of a full turn: " + tMax);
        assertEquals("RangeError", m.get("overflow"));
        assertEquals("c@30 a@10", m.get("w25"));
        assertEquals("a@10 b@20", m.get("w30"), "the primary's id is strictly greater than the hash");
        assertEquals("a@10 b@20 c@30", m.get("w5"));
        assertEquals("a@40 b@20", m.get("w35"), "vnodes: distinct followers, first point met");
        assertEquals("a@10", m.get("wBig"), "past the last point it wraps");
        assertEquals(13L, ((Number) m.get("total")).longValue(), "one family (the node's own), summed over types and statuses");
        assertEquals(8L, ((Number) m.get("put")).longValue());
        assertEquals(null, m.get("none"));
        assertEquals(10L, ((Number) m.get("rate")).longValue());
        assertEquals(null, m.get("reset"));
        assertEquals("key=a%2Bb%26c%20d&val=%C3%BC", m.get("q"));
        assertEquals("86.1 KiB", m.get("bytes"));
    }

    /* --- Versions, conditional writes and transactions (SPEC.md section 11) --- */

    /**
     * Each answer's X-KV-Version is in the log; "Conditions and retries" adds ifVersion to PUT and
     * DELETE (412 with the current version when stale), and with its fields empty the requests
     * are the seed's, unchanged.
     */
    @Test
    @Timeout(120)
    void versionsInTheLogAndIfVersionOnPutAndDelete() throws Exception {
        openLeader();
        type("key", "versioned");
        type("value", "first");
        WebElement put = press("btn-put");
        assertEntry(put, "PUT", "/?key=versioned&val=first", 201, "first");
        Http.Response now = Http.get(leader + "/?key=versioned");
        String v1 = now.header("X-KV-Version");
        assertEquals(v1, put.getAttribute("data-version"), "the PUT's own version");
        assertEquals(v1, put.findElement(org.openqa.selenium.By.className("version")).getText());
        WebElement get = press("btn-get");
        assertEntry(get, "GET", "/?key=versioned", 200, "first");
        assertEquals(v1, get.findElement(org.openqa.selenium.By.className("version")).getText());
        assertTrue(get.getText().contains("Version: " + v1), get.getText());

        browser.css("#write-options summary").click();
        type("if-version", v1);
        browser.await("the summary says what is set", WAIT, d -> browser.byId("write-options-set").getText().contains("ifVersion " + v1) ? true : null);
        type("value", "second");
        WebElement cas = press("btn-put");
        assertEntry(cas, "PUT", "/?key=versioned&val=second&ifVersion=" + v1, 201, "second");
        String v2 = cas.getAttribute("data-version");
        assertTrue(Long.parseLong(v2) > Long.parseLong(v1), v1 + " then " + v2);

        type("value", "third");
        WebElement stale = press("btn-put");
        assertEntry(stale, "PUT", "/?key=versioned&val=third&ifVersion=" + v1, 412, Errors.VERSION_MISMATCH);
        assertEquals(v2, stale.getAttribute("data-version"), "a 412 carries the current version");
        assertTrue(stale.findElement(org.openqa.selenium.By.className("vnote")).getText().contains("current"));
        assertEquals("second", Http.get(leader + "/?key=versioned").body());
        WebElement staleDelete = press("btn-delete");
        assertEntry(staleDelete, "DELETE", "/?key=versioned&ifVersion=" + v1, 412, Errors.VERSION_MISMATCH);

        type("if-version", v2);
        WebElement del = press("btn-delete");
        assertEntry(del, "DELETE", "/?key=versioned&ifVersion=" + v2, 201, "versioned");
        assertNotNull(del.getAttribute("data-version"));

        browser.byId("if-version").clear();
        browser.byId("if-version").sendKeys(" ");
        type("value", "plain");
        assertEntry(press("btn-put"), "PUT", "/?key=versioned&val=plain", 201, "plain"); // the seed's request again
        assertEquals("", browser.byId("write-options-set").getText());

        browser.byId("rid-new").click();
        String rid = browser.byId("rid").getAttribute("value");
        assertTrue(rid.matches("web-[0-9a-f]{16}"), rid);
        type("value", "once");
        WebElement first = press("btn-put");
        assertEntry(first, "PUT", "/?key=versioned&val=once&rid=" + rid, 201, "once");
        WebElement retry = press("btn-put");
        assertEntry(retry, "PUT", "/?key=versioned&val=once&rid=" + rid, 201, "once");
        assertEquals(first.getAttribute("data-version"), retry.getAttribute("data-version"), "a retry with the same rid is applied once");
        WebElement lookup = press("rid-lookup");
        assertEquals("/api/writes?rid=" + rid, lookup.findElement(org.openqa.selenium.By.className("path")).getText());
        JsonObject w = new JsonObject(lookup.findElement(org.openqa.selenium.By.className("body")).getText());
        assertEquals("committed", w.getString("state"));
        assertEquals(Long.parseLong(first.getAttribute("data-version")), w.getLong("version"));
        browser.byId("rid").clear();
        browser.screenshot(SHOTS.resolve("versions.png"));
    }

    /**
     * The transaction panel: a condition and two puts on two keys, run as one POST /txn (its body
     * and JSON answer in the log, both keys at the answer's version); run again, the condition
     * fails and Else's get runs; rows are added and removed with the keyboard.
     */
    @Test
    @Timeout(120)
    void theTransactionPanelRunsATwoKeyTransaction() throws Exception {
        openLeader();
        assertFalse(browser.byId("txn-panel").getAttribute("hidden") != null, "the leader has the panel");
        browser.byId("txn-reset").click();
        browser.byId("txn-add-if").click();
        assertEquals("txn-key", browser.driver.switchTo().activeElement().getAttribute("class"), "a new row takes the focus");
        browser.driver.switchTo().activeElement().sendKeys("pair/a", Keys.TAB, "0");
        WebElement then1 = browser.css("#txn-then .txn-row");
        then1.findElement(org.openqa.selenium.By.className("txn-key")).sendKeys("pair/a");
        then1.findElement(org.openqa.selenium.By.className("txn-val")).sendKeys("one <b>");
        browser.byId("txn-add-then").click();
        browser.driver.switchTo().activeElement().sendKeys(Keys.TAB, "pair/b", Keys.TAB, "two & more");
        browser.byId("txn-add-then").click();
        assertEquals(3, browser.all("#txn-then .txn-row").size());
        browser.all("#txn-then .txn-row").get(2).findElement(org.openqa.selenium.By.className("txn-remove")).click();
        assertEquals(2, browser.all("#txn-then .txn-row").size(), "Remove takes the row away");
        assertEquals("txn-add-then", browser.driver.switchTo().activeElement().getAttribute("id"));
        browser.byId("txn-add-else").click();
        WebElement elseRow = browser.css("#txn-else .txn-row");
        assertEquals("get", new org.openqa.selenium.support.ui.Select(elseRow.findElement(org.openqa.selenium.By.className("txn-op"))).getFirstSelectedOption().getText());
        assertFalse(elseRow.findElement(org.openqa.selenium.By.className("val")).isDisplayed(), "a get has no value");
        elseRow.findElement(org.openqa.selenium.By.className("txn-key")).sendKeys("pair/a");

        int before = logSize();
        browser.byId("txn-run").click();
        WebElement entry = newestAfter(before);
        assertEquals("POST", entry.getAttribute("data-method"));
        assertEquals("/txn", entry.findElement(org.openqa.selenium.By.className("path")).getText());
        assertEquals("200", entry.getAttribute("data-status"), entry.getText());
        JsonObject sent = new JsonObject(entry.findElement(org.openqa.selenium.By.className("reqbody")).getText());
        assertEquals(new JsonObject("""
                {"if": [{"key": "pair/a", "version": 0}],
                 "then": [{"op": "put", "key": "pair/a", "val": "one <b>"}, {"op": "put", "key": "pair/b", "val": "two & more"}],
                 "else": [{"op": "get", "key": "pair/a"}]}"""), sent);
        JsonObject answer = new JsonObject(entry.findElement(org.openqa.selenium.By.className("body")).getText());
        assertTrue(answer.getBoolean("succeeded"), answer.encode());
        long version = answer.getLong("version");
        assertEquals(2, answer.getJsonArray("results").size());
        assertEquals("true", browser.await("the panel's result", WAIT, d -> browser.byId("txn-result").getAttribute("data-succeeded")));
        assertTrue(browser.byId("txn-result").getText().contains("version " + version), browser.byId("txn-result").getText());
        for (String[] kv : new String[][] {{"pair/a", "one <b>"}, {"pair/b", "two & more"}}) {
            Http.Response r = Http.get(leader + "/?key=" + Http.enc(kv[0]));
            assertEquals(kv[1], r.body());
            assertEquals(String.valueOf(version), r.header("X-KV-Version"), "both keys at the transaction's version");
        }
        browser.screenshot(SHOTS.resolve("transaction.png"));

        before = logSize();
        browser.byId("txn-rid").sendKeys(Keys.ENTER); // Enter in any field runs it
        WebElement again = newestAfter(before);
        JsonObject second = new JsonObject(again.findElement(org.openqa.selenium.By.className("body")).getText());
        assertFalse(second.getBoolean("succeeded"), "pair/a is no longer absent");
        assertEquals("one <b>", second.getJsonArray("results").getJsonObject(0).getString("val"), "Else's get ran");
        assertEquals("false", browser.await("the panel's result", WAIT, d -> browser.byId("txn-result").getAttribute("data-succeeded")));

        browser.css("#txn-if .txn-version").clear();
        browser.css("#txn-if .txn-version").sendKeys("seven");
        before = logSize();
        browser.byId("txn-run").click();
        browser.await("a local refusal", WAIT, d -> browser.byId("txn-result").getText().contains("needs a version") ? true : null);
        assertEquals(before, logSize(), "nothing sent");
        assertEquals("txn-version", browser.driver.switchTo().activeElement().getAttribute("class"), "the field to fix has the focus");
        assertEquals(List.of(), browser.js("return window.__markup;"), "no element made from data");
    }

    /* --- Membership (SPEC.md section 10) --- */

    /**
     * A cluster of its own, changed through the embedded console: after an eviction the leader's
     * page shows the follower evicted, the new view and the rebalance ending; after a join ({@code
     * a}) the new follower up and the view again; each follower's page shows its state, view and
     * copy progress; while a drain waits for a gainer that is down, the ring shows the keys moving
     * (the draining point hollow, arcs for the gained ranges) until the gainer is back and the
     * drain ends. The expected view numbers and ids come from /api/status.
     */
    @Test
    @Timeout(300)
    void theMembershipAfterAnEvictionAndAJoin() throws Exception {
        int b = Ports.freeRange(6);
        String l = "http://127.0.0.1:" + b;
        try (JarNode shaped = JarNode.start(dir.resolve("shaped"), Map.of(), "--port", String.valueOf(b), "--heal-after", "0")) {
            shaped.awaitOutput("listening on http://127.0.0.1:", 4, Duration.ofSeconds(60));
            Await.until("leader ready", Duration.ofSeconds(30), () -> Http.get(l + "/api/health").status() == 200);
            for (int i = 0; i < 60; i++) assertEquals(201, Http.put(l + "/?key=shape-" + i + "&val=" + i).status());
            browser.open(l + "/");
            browser.await("the leader's page", WAIT, d -> "true".equals(browser.css("body").getAttribute("data-ready")) ? true : null);
            awaitView(l);
            assertEquals("false", browser.byId("rebalance").getAttribute("data-moving"));
            assertEquals("no key is moving.", browser.byId("rebalance-text").getText());

            int evicted = b + 3;
            shaped.stdin("e " + evicted);
            shaped.awaitOutput("evicted follower " + evicted, Duration.ofSeconds(30));
            browser.await("the evicted row", Duration.ofSeconds(20), d -> "evicted".equals(rowCell(evicted, null)) ? true : null);
            assertEquals("× evicted", rowCell(evicted, "state"));
            assertEquals("—", rowCell(evicted, "id"), "the leader lists evicted followers without an id");
            assertTrue(rowCell(evicted, "seen").startsWith("evicted "), rowCell(evicted, "seen"));
            browser.await("the rebalance ends", Duration.ofSeconds(60), d -> "false".equals(browser.byId("rebalance").getAttribute("data-moving"))
                    && Http.get(l + "/api/status").body().contains("\"rebalancing\":null") ? true : null);
            long afterEviction = awaitView(l);
            assertEquals("2 of 3", stat("up"));
            browser.await("two points on the ring", WAIT, d -> browser.all("#ring .pt:not(.base)").size() == 2 ? true : null);
            browser.screenshot(SHOTS.resolve("membership-evicted.png"));

            int added = b + 4;
            shaped.stdin("a");
            shaped.awaitOutput("added follower " + added, Duration.ofSeconds(60));
            browser.await("the new follower up", Duration.ofSeconds(60), d -> "up".equals(rowCell(added, null)) ? true : null);
            assertEquals("● up", rowCell(added, "state"));
            browser.await("the rebalance ends", Duration.ofSeconds(60), d -> Http.get(l + "/api/status").body().contains("\"rebalancing\":null")
                    && "false".equals(browser.byId("rebalance").getAttribute("data-moving")) ? true : null);
            long afterJoin = awaitView(l);
            assertTrue(afterJoin > afterEviction, afterEviction + " then " + afterJoin);
            assertEquals("3 of 4", browser.await("three up of four", WAIT, d -> "3 of 4".equals(stat("up")) ? stat("up") : null));
            browser.await("three points on the ring", WAIT, d -> browser.all("#ring .pt:not(.base)").size() == 3 ? true : null);
            assertEquals("false", browser.byId("ring").getAttribute("data-moving"));
            browser.screenshot(SHOTS.resolve("membership-joined.png"));

            // The joined follower's own page: its state, its view and what it copied.
            browser.open("http://127.0.0.1:" + added + "/");
            browser.await("the joined follower's state", WAIT, d -> "up".equals(followerStat("state")) ? true : null);
            browser.await("its view", WAIT, d -> followerStat("view").equals(String.valueOf(
                    new JsonObject(Http.get("http://127.0.0.1:" + added + "/api/status").body()).getLong("view"))) ? true : null);
            long copied = new JsonObject(Http.get("http://127.0.0.1:" + added + "/api/status").body()).getJsonObject("copy").getLong("keys");
            assertTrue(followerStat("copy").startsWith(copied > 0 ? "done: " + copied + " key" : "nothing copied"), followerStat("copy"));
            assertTrue(browser.byId("follower-state-note").getAttribute("hidden") != null, "nothing to explain when up");

            browser.open("http://127.0.0.1:" + evicted + "/");
            browser.await("the evicted follower's state", WAIT, d -> "evicted".equals(followerStat("state")) ? true : null);
            assertTrue(browser.byId("follower-state-note").getText().startsWith("Evicted:"), browser.byId("follower-state-note").getText());
            assertEquals("0", followerStat("keys"), "an evicted follower drops every key");
            browser.screenshot(SHOTS.resolve("follower-evicted.png"));

            // Keys moving, held still: a follower that gains keys is down (this cluster never evicts
            // for silence) while another drains, so the drain waits for it.
            browser.open(l + "/");
            browser.await("the leader's page", WAIT, d -> "true".equals(browser.css("body").getAttribute("data-ready")) ? true : null);
            int gainer = b + 2;
            shaped.stdin("k " + gainer);
            shaped.awaitOutput("killed follower " + gainer, Duration.ofSeconds(30));
            browser.await("the killed follower down", Duration.ofSeconds(20), d -> "down".equals(rowCell(gainer, null)) ? true : null);
            String addedId = idOf(l, added);
            shaped.stdin("d " + added);
            shaped.awaitOutput("draining follower " + added, Duration.ofSeconds(30));
            browser.await("the ring shows the keys moving", Duration.ofSeconds(20), d -> "true".equals(browser.byId("ring").getAttribute("data-moving"))
                    && !browser.all("#ring .gain").isEmpty() && browser.all("#ring .pt.base[data-id='" + addedId + "']").size() == 1 ? true : null);
            assertEquals("draining", rowCell(added, null));
            assertEquals("◑ draining", rowCell(added, "state"));
            browser.await("the rebalance shown", WAIT, d -> "true".equals(browser.byId("rebalance").getAttribute("data-moving")) ? true : null);
            assertTrue(browser.byId("rebalance-text").getText().startsWith("view "), browser.byId("rebalance-text").getText());
            assertTrue(browser.byId("ring-moving").getText().startsWith("Keys are moving (view "), browser.byId("ring-moving").getText());
            List<String> memberIds = List.of(idOf(l, b + 1), idOf(l, gainer));
            for (WebElement arc : browser.all("#ring .gain")) {
                assertTrue(memberIds.contains(arc.getAttribute("data-gainer")), "an arc per range a remaining member gains");
                assertTrue(arc.findElement(org.openqa.selenium.By.tagName("title")).getAttribute("textContent").contains(" gains the keys hashing from "));
            }
            type("key", "shape-7");
            browser.await("the key's placement", WAIT, d -> "shape-7".equals(browser.byId("placement").getAttribute("data-key")) ? true : null);
            browser.screenshot(SHOTS.resolve("membership-moving.png"));

            shaped.stdin("r " + gainer);
            shaped.awaitOutput("drained follower " + added + ": its keys moved", Duration.ofSeconds(120));
            browser.await("the move done", Duration.ofSeconds(30), d -> "false".equals(browser.byId("ring").getAttribute("data-moving"))
                    && "false".equals(browser.byId("rebalance").getAttribute("data-moving")) && "evicted".equals(rowCell(added, null)) ? true : null);
            assertEquals(0, browser.all("#ring .gain").size());
            assertTrue(browser.byId("ring-moving").getAttribute("hidden") != null);
            assertTrue(awaitView(l) > afterJoin);
            for (int i = 0; i < 60; i++) assertEquals(String.valueOf(i), Http.get(l + "/?key=shape-" + i).body(), "shape-" + i + " kept");
            shaped.stdin("q");
            assertEquals(0, shaped.waitFor(Duration.ofSeconds(30)));
        }
    }

    /**
     * The ring while keys move, drawn by the page's own ring.js from a /api/placement answer with
     * a baseRing (a rebalance is too quick to catch on a small cluster): the leaving follower's
     * point hollow and dashed, the joiner's with a halo, an arc per gained range in the gainer's
     * colour, each with a title in words; and the pure helpers behind it.
     */
    @Test
    @Timeout(120)
    void theRingShowsWhereKeysMove() throws Exception {
        openLeader();
        Object r = browser.driver.executeAsyncScript("""
                const done = arguments[arguments.length - 1];
                Promise.all([import('/lib.js'), import('/ring.js')]).then(([lib, ring]) => {
                  const q = 2n ** 62n;
                  const at = (k) => String(BigInt(k) * q - 1n);
                  const base = [{point: at(1), id: '11'}, {point: at(2), id: '22'}, {point: at(3), id: '33'}];
                  const target = [{point: at(1), id: '11'}, {point: at(2), id: '22'}, {point: at(4), id: '44'}];
                  const ranges = lib.movedRanges(base, target, 2);
                  const members = new Map([['11', {host: '127.0.0.1', port: 1, up: true, state: 'up'}],
                    ['22', {host: '127.0.0.1', port: 2, up: true, state: 'up'}],
                    ['44', {host: '127.0.0.1', port: 4, up: true, state: 'joining'}]]);
                  const box = document.createElement('section');
                  box.className = 'panel';
                  box.id = 'ring-test';
                  const svgEl = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
                  svgEl.setAttribute('viewBox', '-40 -4 400 328');
                  svgEl.setAttribute('class', 'ring');
                  svgEl.setAttribute('width', '400');
                  svgEl.append(document.createElementNS('http://www.w3.org/2000/svg', 'title'));
                  box.append(svgEl);
                  document.querySelector('main').prepend(box);
                  ring.drawRing(svgEl, target, members, null, {view: 9, baseRing: base, ranges});
                  const legend = ring.legendItems(members, [...target, ...base].map((p) => p.id), null, {ranges}).map((li) => li.textContent);
                  done({
                    ranges: ranges.map((x) => x.from + '>' + x.to + ':' + x.gainers.join('+')),
                    base: [...svgEl.querySelectorAll('.pt.base')].map((c) => c.dataset.id),
                    halo: [...svgEl.querySelectorAll('.halo')].map((c) => c.dataset.id),
                    gains: [...svgEl.querySelectorAll('.gain')].map((g) => g.dataset.gainer + ':' + g.querySelector('title').textContent),
                    pts: svgEl.querySelectorAll('.pt:not(.base)').length,
                    legend,
                    none: lib.movedRanges(base, base, 2).length,
                    summary: lib.rebalanceSummary({view: 9, keys: 40, copied: 10, bytes: 2048, since: 1000}, 4000),
                    over: lib.rebalanceSummary({view: 9, keys: 3, copied: 5}, 0).fraction,
                    idle: lib.rebalanceSummary(null, 0),
                    txn: lib.txnBody([{key: 'a', version: ' 7 '}], [{op: 'put', key: 'a', val: '1'}, {op: 'delete', key: 'c', val: 'x'}], [], 'r-1').json,
                    txnBad: lib.txnBody([{key: 'a', version: 'x'}], [], [], '').at,
                    txnEmpty: lib.txnBody([], [], [], '').error
                  });
                }).catch((e) => done('import failed: ' + e));""");
        assertTrue(r instanceof Map, String.valueOf(r));
        Map<?, ?> m = (Map<?, ?>) r;
        String q1 = String.valueOf(BigInteger.ONE.shiftLeft(62).subtract(BigInteger.ONE));
        String q4 = String.valueOf(BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE));
        // Base 11@q1 22@q2 33@q3, target 11 22 44@q4 (q4 = 2^64 - 1), two replicas: hashes in
        // [q1, q2) went to {22, 33} and now go to {22, 44}; [q2, q3) from {33, 11} to {44, 11};
        // [q3, q4) from {11, 22} to {44, 11}; past q4 nothing changes. One range, gained by 44.
        assertEquals(List.of(q1 + ">" + q4 + ":44"), m.get("ranges"));
        assertEquals(List.of("33"), m.get("base"), "the leaving point, hollow");
        assertEquals(List.of("44"), m.get("halo"), "the joining point, haloed");
        assertEquals(List.of("44:127.0.0.1:4 gains the keys hashing from " + q1 + " up to " + q4), m.get("gains"));
        assertEquals(3L, ((Number) m.get("pts")).longValue());
        assertTrue(((List<?>) m.get("legend")).contains("id 33 leaving"), String.valueOf(m.get("legend")));
        assertTrue(((List<?>) m.get("legend")).contains("127.0.0.1:4 joining gaining keys"), String.valueOf(m.get("legend")));
        assertEquals(0L, ((Number) m.get("none")).longValue());
        Map<?, ?> summary = (Map<?, ?>) m.get("summary");
        assertEquals("view 9: 10 of about 40 keys copied (25%), started 3 s ago", summary.get("text"));
        assertEquals(0.25, ((Number) summary.get("fraction")).doubleValue());
        assertEquals(1L, ((Number) m.get("over")).longValue(), "an estimate passed: the bar stops full");
        assertNull(m.get("idle"));
        assertEquals(new JsonObject("{\"if\":[{\"key\":\"a\",\"version\":7}],\"then\":[{\"op\":\"put\",\"key\":\"a\",\"val\":\"1\"},"
                + "{\"op\":\"delete\",\"key\":\"c\"}],\"rid\":\"r-1\"}"), new JsonObject((String) m.get("txn")));
        assertEquals(0L, ((Number) m.get("txnBad")).longValue());
        assertTrue(((String) m.get("txnEmpty")).startsWith("Nothing to run"));
        browser.screenshot(SHOTS.resolve("ring-moving.png"));
    }

    /* --- Helpers --- */

    private void openLeader() {
        browser.open(leader + "/");
        browser.await("the leader's page", WAIT, d -> "leader".equals(browser.css("body").getAttribute("data-role"))
                && "true".equals(browser.css("body").getAttribute("data-ready")) ? true : null);
    }

    private void openFollower(int port) {
        browser.open("http://127.0.0.1:" + port + "/");
        browser.await("the follower's page", WAIT, d -> "follower".equals(browser.css("body").getAttribute("data-role"))
                && "true".equals(browser.css("body").getAttribute("data-ready")) ? true : null);
    }

    private void type(String id, String text) {
        WebElement e = browser.byId(id);
        e.clear();
        e.sendKeys(text);
    }

    private int logSize() {
        return browser.all("#log li").size();
    }

    /** Clicks a button and returns the log entry it adds. */
    private WebElement press(String buttonId) {
        int before = logSize();
        browser.byId(buttonId).click();
        return newestAfter(before);
    }

    private WebElement newestAfter(int before) {
        return browser.await("a new log entry", WAIT, d -> logSize() > before ? browser.css("#log li:first-child") : null);
    }

    private void assertEntry(WebElement entry, String method, String path, int status, String body) {
        assertEquals(method, entry.getAttribute("data-method"));
        assertEquals(String.valueOf(status), entry.getAttribute("data-status"), entry.getText());
        assertEquals(method, entry.findElement(org.openqa.selenium.By.className("method")).getText());
        assertEquals(path, entry.findElement(org.openqa.selenium.By.className("path")).getText());
        assertEquals(String.valueOf(status), entry.findElement(org.openqa.selenium.By.className("status")).getText());
        assertEquals(body, entry.findElement(org.openqa.selenium.By.className("body")).getText());
        assertTrue(entry.getAttribute("class").contains(status >= 200 && status < 300 ? "ok" : "err"), "green for 2xx, red otherwise");
    }

    private List<String> texts(String selector) {
        List<String> out = new ArrayList<>();
        for (WebElement e : browser.all(selector)) out.add(e.getText());
        return out;
    }

    private static List<String> texts(WebElement root, String selector) {
        List<String> out = new ArrayList<>();
        for (WebElement e : root.findElements(org.openqa.selenium.By.cssSelector(selector))) out.add(e.getText());
        return out;
    }

    private String stat(String name) {
        return browser.css("#leader-stats [data-stat='" + name + "']").getText();
    }

    /**
     * A cell of the follower row for {@code port} (by class), or with {@code cls} null the row's
     * data-state; null while there is no such row. Read in one script, so that a row the page
     * rebuilds between two calls cannot go stale under the test.
     */
    private String rowCell(int port, String cls) {
        return (String) browser.js("""
                const row = [...document.querySelectorAll('#followers tbody tr')].find((tr) => tr.querySelector('a').textContent === arguments[0]);
                if (!row) return null;
                return arguments[1] === null ? row.dataset.state : row.querySelector('.' + arguments[1]).textContent;""",
                "127.0.0.1:" + port, cls);
    }

    /** The id the leader gives the follower on {@code port}. */
    private static String idOf(String leaderUrl, int port) {
        JsonArray fs = new JsonObject(Http.get(leaderUrl + "/api/status").body()).getJsonArray("followers");
        for (int i = 0; i < fs.size(); i++) if (fs.getJsonObject(i).getInteger("port") == port) return fs.getJsonObject(i).getString("id");
        throw new AssertionError("the leader does not list " + port);
    }

    /** A key named PREFIX-N whose replicas include the follower on {@code port}. */
    private String keyHeldBy(int port, String prefix) {
        for (int i = 0; i < 1000; i++) {
            JsonArray rs = placement(prefix + "-" + i).getJsonArray("replicas");
            for (int j = 0; j < rs.size(); j++) if (rs.getJsonObject(j).getInteger("port") == port) return prefix + "-" + i;
        }
        throw new AssertionError("no key on " + port);
    }

    /** Waits until the page's view is the leader's (from /api/status) and returns it. */
    private long awaitView(String leaderUrl) {
        return browser.await("the leader's view on the page", Duration.ofSeconds(20), d -> {
            long view = new JsonObject(Http.get(leaderUrl + "/api/status").body()).getLong("view");
            return String.valueOf(view).equals(stat("view")) ? view : null;
        });
    }

    private String followerStat(String name) {
        return browser.css("#follower-stats [data-stat='" + name + "']").getText();
    }

    private String awaitStat(String name) {
        return browser.await("the " + name + " counter", WAIT, d -> stat(name).matches("\\d+") ? stat(name) : null);
    }

    private WebElement followerRow(int port) {
        return browser.await("the row of follower " + port, WAIT, d -> {
            for (WebElement tr : browser.all("#followers tbody tr")) {
                if (tr.findElement(org.openqa.selenium.By.tagName("a")).getText().equals("127.0.0.1:" + port)) return tr;
            }
            return null;
        });
    }

    private List<String> awaitKeys(String note) {
        browser.await("'" + note + "'", WAIT, d -> browser.byId("keys-note").getText().startsWith(note) ? true : null);
        return texts("#keys li");
    }

    private static List<String> range(int from, int to) {
        List<String> out = new ArrayList<>();
        for (int i = from; i < to; i++) out.add(String.format("page/%02d", i));
        return out;
    }

    private JsonObject placement(String key) {
        Http.Response r = Http.get(leader + "/api/placement?key=" + Http.enc(key));
        assertEquals(200, r.status(), r.body());
        return new JsonObject(r.body());
    }

    private static String primary(JsonObject placement) {
        return placement.getJsonArray("replicas").getJsonObject(0).getString("id");
    }

    private int firstReplicaPort(String key) {
        return placement(key).getJsonArray("replicas").getJsonObject(0).getInteger("port");
    }

    /** An SVG circle sits where its unsigned 64-bit position says: a turn of value/2^64 clockwise from the top. */
    private static void assertAt(WebElement circle, String unsigned64) {
        double turn = new BigDecimal(new BigInteger(unsigned64)).divide(new BigDecimal(BigInteger.ONE.shiftLeft(64)), MathContext.DECIMAL64).doubleValue();
        double r = 118; // the ring's radius around (160, 160) in the SVG's user units; every mark sits on it
        double x = 160 + r * Math.sin(turn * 2 * Math.PI);
        double y = 160 - r * Math.cos(turn * 2 * Math.PI);
        assertEquals(x, Double.parseDouble(circle.getAttribute("cx")), 0.01, "x of " + unsigned64);
        assertEquals(y, Double.parseDouble(circle.getAttribute("cy")), 0.01, "y of " + unsigned64);
    }

    private void assertNoHorizontalScroll() {
        List<?> w = (List<?>) browser.js("return [document.documentElement.scrollWidth, window.innerWidth];");
        long scroll = ((Number) w.get(0)).longValue();
        long inner = ((Number) w.get(1)).longValue();
        assertTrue(scroll <= inner, "no sideways scrolling: content " + scroll + " px in a " + inner + " px window");
    }

    /** The entry's text colour against its background reaches WCAG AA (4.5:1). */
    private void assertReadable(WebElement e) {
        String fg = e.getCssValue("color");
        String bg = e.getCssValue("background-color");
        double ratio = contrast(rgb(fg), rgb(bg));
        assertTrue(ratio >= 4.5, "contrast " + ratio + " of " + fg + " on " + bg);
    }

    private static final Pattern RGB = Pattern.compile("rgba?\\((\\d+),\\s*(\\d+),\\s*(\\d+)");

    private static int[] rgb(String css) {
        Matcher m = RGB.matcher(css);
        assertTrue(m.find(), "a colour: " + css);
        return new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3))};
    }

    static double contrast(int[] a, int[] b) {
        double la = luminance(a), lb = luminance(b);
        return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
    }

    private static double luminance(int[] c) {
        double[] l = new double[3];
        for (int i = 0; i < 3; i++) {
            double s = c[i] / 255.0;
            l[i] = s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
        }
        return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
    }
}
