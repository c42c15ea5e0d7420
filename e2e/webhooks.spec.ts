// An admin adds a webhook endpoint on the Webhooks page, keeps the signing secret shown once, sends a test
// message that a real receiver checks (signature over timestamp and body, delivery id), sees it delivered,
// disables the endpoint and removes it. The page never shows the URL's path beyond its first segment.
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test } from "@playwright/test";
import { ADMIN, e2eEnv } from "./support/env";
import { signIn, snap } from "./support/pages";

interface Received {
  body: string;
  signature: string;
  timestamp: string;
  delivery: string;
}

test("an admin adds a webhook endpoint, sends a signed test message, sees it delivered, then removes it", async ({
  page,
}) => {
  test.setTimeout(120_000);
  const received: Received[] = [];
  // While set, the receiver refuses with 410 (the gateway does not retry that by itself).
  let isRefusing = false;
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({
        body: Buffer.concat(chunks).toString("utf8"),
        signature: String(req.headers["x-portcullis-signature"] ?? ""),
        timestamp: String(req.headers["x-portcullis-timestamp"] ?? ""),
        delivery: String(req.headers["x-portcullis-delivery"] ?? ""),
      });
      res.writeHead(isRefusing ? 410 : 204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const { port } = receiver.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/hooks/T000/very-secret-path-token`;
  try {
    const base = e2eEnv.consoleUrl;
    await signIn(page, base, ADMIN.email, ADMIN.password);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Webhooks" }).click();
    await expect(page.getByRole("heading", { name: "Webhooks", level: 1 })).toBeVisible();
    await expect(page.getByText("No webhook endpoints yet")).toBeVisible();
    await snap(page, "admin-webhooks-01-empty");

    const form = page.getByRole("form", { name: "New webhook endpoint" });
    await form.getByLabel("URL").fill(url);
    await form.getByLabel("review.created").check();
    await form.getByLabel("review.denied").check();
    await form.getByRole("button", { name: "Add endpoint" }).click();
    const secretBox = page.getByTestId("webhook-secret");
    await expect(secretBox).toBeVisible();
    const secret = (await secretBox.textContent())?.trim() ?? "";
    expect(secret.length).toBeGreaterThanOrEqual(32);
    const endpoint = page.getByRole("region", { name: `Webhook http://127.0.0.1:${port}/hooks/…` });
    await expect(endpoint).toBeVisible();
    await expect(endpoint).toContainText("review.created");
    await expect(endpoint).toContainText("No deliveries yet");
    await snap(page, "admin-webhooks-02-added");
    // Only the origin and the path's first segment are shown: a path can be the endpoint's token.
    expect(await page.content()).not.toContain("very-secret-path-token");

    await endpoint.getByRole("button", { name: "Send a test message" }).click();
    await expect(page.getByText("Test message queued")).toBeVisible();
    await expect.poll(() => received.length, { timeout: 30_000 }).toBe(1);
    const [test1] = received;
    const expected = `sha256=${createHmac("sha256", secret).update(`${test1!.timestamp}.${test1!.body}`).digest("hex")}`;
    expect(timingSafeEqual(Buffer.from(test1!.signature), Buffer.from(expected))).toBe(true);
    expect(JSON.parse(test1!.body)).toMatchObject({ event: "webhook.test", by: ADMIN.email });
    expect(test1!.delivery).toMatch(/^[0-9a-f-]{36}$/);

    await expect
      .poll(
        async () => {
          await page.reload();
          return page
            .getByRole("table", { name: /Recent deliveries/ })
            .getByRole("row")
            .filter({ hasText: "webhook.test" })
            .textContent();
        },
        { timeout: 30_000 },
      )
      .toContain("delivered");
    await snap(page, "admin-webhooks-03-delivered");

    // The receiver refuses a message: the delivery fails; once it accepts again, an admin sends it again.
    isRefusing = true;
    await endpoint.getByRole("button", { name: "Send a test message" }).click();
    const deliveries = page.getByRole("table", { name: /Recent deliveries/ }).getByRole("row");
    // The newest delivery's row (row 0 is the header), read again after a reload.
    const newestDelivery = async () => {
      await page.reload();
      return deliveries.nth(1).textContent();
    };
    await expect.poll(newestDelivery, { timeout: 30_000 }).toContain("failed");
    await expect(deliveries.nth(1)).toContainText("HTTP 410");
    await snap(page, "admin-webhooks-04-failed");
    isRefusing = false;
    await deliveries.nth(1).getByRole("button", { name: "Send again" }).click();
    await expect(page.getByText("Sending it again")).toBeVisible();
    await expect.poll(newestDelivery, { timeout: 30_000 }).toContain("delivered");
    expect(received.length).toBe(3);
    expect(received[2]!.delivery).toBe(received[1]!.delivery);

    await endpoint.getByRole("button", { name: "Disable" }).click();
    await expect(endpoint.getByText("disabled", { exact: true })).toBeVisible();
    await expect(endpoint.getByRole("button", { name: "Send a test message" })).toBeDisabled();

    page.once("dialog", (dialog) => void dialog.accept());
    await endpoint.getByRole("button", { name: "Remove" }).click();
    await expect(page.getByText("No webhook endpoints yet")).toBeVisible();
  } finally {
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  }
});
