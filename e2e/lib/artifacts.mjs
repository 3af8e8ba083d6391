// Keeps evidence of a failing test: a screenshot and the page's HTML under e2e/artifacts/.
import { mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const DIR = fileURLToPath(new URL("../artifacts/", import.meta.url));

/** Runs `body(page)`; if it throws, saves what the page looked like, then rethrows. */
export async function capturingFailures(name, page, body, server) {
  try {
    await body(page);
  } catch (error) {
    await mkdir(DIR, { recursive: true });
    const slug = name.replace(/[^a-z0-9]+/gi, "-").toLowerCase();
    await page.screenshot({ path: `${DIR}${slug}.png`, fullPage: true }).catch(() => {});
    await writeFile(`${DIR}${slug}.html`, await page.content().catch(() => "")).catch(() => {});
    if (server) await writeFile(`${DIR}${slug}.server.log`, server.logs()).catch(() => {});
    if (page.errors?.length) error.message += `\npage errors: ${page.errors.join("; ")}`;
    throw error;
  }
}
