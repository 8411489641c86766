/**
 * Pictures to PNG with a headless Chromium (Debian's `chromium`, which deploy/up.sh installs):
 * an SVG file or an HTML page, rendered at a given size.
 */
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { DrillError, DrillErrorTypes } from '../domain/errors';

export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.CHROMIUM_PATH ?? '/usr/bin/chromium';
}

/** Renders `file` (SVG or HTML) into `pngPath` at `width` × `height` CSS pixels. */
export async function screenshotToPng(file: string, pngPath: string, size: { width: number; height: number }): Promise<void> {
  const chromium = chromiumPath();
  const args = [
    '--headless',
    // Root in a container has no user namespace for Chromium's sandbox; the page is our own file.
    '--no-sandbox',
    '--disable-gpu',
    '--hide-scrollbars',
    `--window-size=${Math.ceil(size.width)},${Math.ceil(size.height)}`,
    `--screenshot=${path.resolve(pngPath)}`,
    pathToFileURL(path.resolve(file)).href,
  ];
  await promisify(execFile)(chromium, args, { timeout: 60_000 }).catch((err: NodeJS.ErrnoException & { stderr?: string }) => {
    const hint = err.code === 'ENOENT' ? `${chromium} is not installed: install Debian's chromium (deploy/up.sh does) or set CHROMIUM_PATH, or ask for an .svg` : (err.stderr ?? err.message).trim().slice(-600);
    throw new DrillError(DrillErrorTypes.ToolFailed, `could not render ${file} to PNG: ${hint}`, { cause: err });
  });
  const written = await stat(pngPath).catch(() => undefined);
  if (!written || written.size === 0) throw new DrillError(DrillErrorTypes.ToolFailed, `chromium wrote no PNG at ${pngPath}`);
}
