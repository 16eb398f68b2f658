import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { escapeHtml, type ReportRow, renderReport, timeline, writeReport } from "../../cli/report.js";

const CHROMIUM = "/usr/bin/chromium";
const HOSTILE = `arn:aws:iam::111122223333:user/<script>window.pwned=1</script>"><img src=x onerror="window.pwned=2">`;

function row(over: Partial<ReportRow>): ReportRow {
  return {
    eventId: "e",
    eventName: "CreateGrant",
    eventTime: "2026-11-28T10:00:00Z",
    source: { file: "s3://trail/AWSLogs/x.json.gz", index: 0 },
    incident: "rogue-grant",
    severity: "high",
    reasons: ["external-grantee"],
    actions: [{ type: "revoke-grant", target: "arn:aws:kms:us-east-1:111122223333:key/k grant g" }],
    key: "arn:aws:kms:us-east-1:111122223333:key/k",
    account: "111122223333",
    accountName: null,
    region: "us-east-1",
    actor: "arn:aws:iam::111122223333:user/alice",
    summary: "A grant to another account",
    ...over,
  };
}

const ROWS: ReportRow[] = [
  row({ eventId: "a", severity: "medium", key: "key-b", actor: "carol", eventTime: "2026-11-27T09:00:00Z" }),
  row({
    eventId: "b",
    severity: "critical",
    key: "key-c",
    actor: "alice",
    eventTime: "2026-11-28T09:00:00Z",
  }),
  row({ eventId: "c", severity: "low", key: "key-a", actor: HOSTILE, eventTime: "2026-11-28T11:00:00Z" }),
  row({ eventId: "d", severity: "high", key: "key-d", actor: "bob", eventTime: "2026-11-30T01:00:00Z" }),
  row({ eventId: "e", severity: "high", key: "key-e", actor: "dave", eventTime: null }),
];
const META = {
  inputs: ["s3://trail/AWSLogs/"],
  generatedAt: new Date("2026-12-01T00:00:00Z"),
  records: 1234,
};

describe("the HTML report", () => {
  const html = renderReport(ROWS, META);

  it("escapes every value from a record: a hostile principal name stays text", () => {
    expect(escapeHtml(`<a href="x">'&`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;");
    expect(html).not.toContain("<script>window.pwned");
    expect(html).not.toContain("<img");
    expect(html).toContain(
      "&lt;script&gt;window.pwned=1&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=&quot;window.pwned=2&quot;&gt;",
    );
    // Exactly one script: the page's own sorting code.
    expect(html.match(/<script/g)).toHaveLength(1);
  });

  it("names each finding's account (with its name when known, escaped) and Region", () => {
    // Act
    const named = renderReport(
      [row({ account: "444455556666", accountName: "payments <prod>", region: "eu-west-1" })],
      META,
    );

    // Assert
    expect(named).toContain("<th>Account</th><th>Region</th>");
    expect(named).toContain(
      '<td><span class="mono">444455556666</span> <span class="muted">payments &lt;prod&gt;</span></td>',
    );
    expect(named).toContain('<td class="mono">eu-west-1</td>');
    expect(renderReport([row({ account: null, region: null })], META)).toContain("<td>-</td>");
  });

  it("is self-contained: no external URL, and a policy that forbids any fetch", () => {
    expect(html).toContain(
      `content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"`,
    );
    expect(html.match(/(?:src|href)\s*=\s*["']?(?:https?:)?\/\//gi)).toBeNull();
    expect(html).not.toMatch(/@import|url\(/);
  });

  it("counts findings per day and severity, days in order, findings without a time left out", () => {
    expect(timeline(ROWS)).toEqual([
      { day: "2026-11-27", counts: { critical: 0, high: 0, medium: 1, low: 0, info: 0 } },
      { day: "2026-11-28", counts: { critical: 1, high: 0, medium: 0, low: 1, info: 0 } },
      { day: "2026-11-30", counts: { critical: 0, high: 1, medium: 0, low: 0, info: 0 } },
    ]);
    expect(html).toContain("<strong>5 findings</strong>: 1 critical, 2 high, 1 medium, 1 low");
  });
});

const dir = mkdtempSync(join(tmpdir(), "kms-responder-report-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!existsSync(CHROMIUM))(`the report rendered in headless Chromium (${CHROMIUM})`, () => {
  it("shows the rows, sorts by a clicked header, draws a bar per day, runs no hostile script and fetches nothing", async () => {
    const { chromium } = await import("playwright-core");
    const file = join(dir, "report.html");
    await writeReport(file, ROWS, META);
    // A fresh profile each run (playwright passes it as --user-data-dir).
    const browser = await chromium.launchPersistentContext(mkdtempSync(join(dir, "profile-")), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    try {
      const page = browser.pages()[0] ?? (await browser.newPage());
      const requests: string[] = [];
      page.on("request", (r) => requests.push(r.url()));
      await page.goto(pathToFileURL(file).href);
      const keys = () =>
        page.locator("#findings tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-key")));
      const severities = () =>
        page
          .locator("#findings tbody tr td:first-child")
          .evaluateAll((cells) => cells.map((c) => c.textContent));
      // As written: by severity, then time.
      expect(await severities()).toEqual(["CRITICAL", "HIGH", "HIGH", "MEDIUM", "LOW"]);
      expect(await page.locator("#findings tbody tr").count()).toBe(5);
      // The hostile actor is shown as text.
      expect(await page.locator('#findings tbody tr[data-key="key-a"] td:nth-child(6)').textContent()).toBe(
        HOSTILE,
      );

      await page.click('th[data-sort="key"]');
      expect(await keys()).toEqual(["key-a", "key-b", "key-c", "key-d", "key-e"]);
      await page.click('th[data-sort="severity"]');
      expect(await severities()).toEqual(["CRITICAL", "HIGH", "HIGH", "MEDIUM", "LOW"]);
      await page.click('th[data-sort="severity"]');
      expect(await severities()).toEqual(["LOW", "MEDIUM", "HIGH", "HIGH", "CRITICAL"]);
      expect(await page.getAttribute('th[data-sort="severity"]', "aria-sort")).toBe("descending");
      await page.click('th[data-sort="time"]');
      expect(await keys()).toEqual(["key-e", "key-b", "key-c", "key-a", "key-d"]);

      // One bar per day with a finding, stacked by severity.
      expect(await page.locator("svg.timeline g.bar").count()).toBe(3);
      expect(
        await page
          .locator("svg.timeline g.bar")
          .evaluateAll((bars) =>
            bars.map((b) => [b.getAttribute("data-day"), b.querySelectorAll("rect").length]),
          ),
      ).toEqual([
        ["2026-11-27", 1],
        ["2026-11-28", 2],
        ["2026-11-30", 1],
      ]);
      expect(await page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned)).toBeUndefined();
      expect(requests).toEqual([pathToFileURL(file).href]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});

if (!existsSync(CHROMIUM))
  console.warn(
    `report.test.ts: skipping the rendering test: ${CHROMIUM} is missing (apt-get install -y chromium)`,
  );
