'use strict';
/* global hexo */
/**
 * hexo-matdiff-tex: expand matdiff-tex `\deriv<F><X>` / `\hessian<f><X>` directives in
 * Markdown posts and pages before Hexo renders them.
 *
 * A `before_post_render` filter at priority 9 (below Hexo's default 10, so it runs
 * before the Markdown renderer and before Nunjucks) sends each post's body to ONE
 * Python process, `python -m matdiff_tex.integrations.batch`, started on the first
 * post that has a directive and stopped after generation (and on exit).
 *
 * Hexo hands the filter the body without its front matter; the bridge sends the front
 * matter along (`front_matter`), so its `matdiff:` key gives the post's defaults and
 * error lines count it, as `matdiff-tex render` would on the file itself.
 *
 * Errors are logged one by one (`path:line:col: error: ...`, the source line and a
 * caret) and fail the build, so `hexo generate` exits non-zero.  Under `hexo server`
 * (or with `fail_on_error: false`) they are logged once and the post is shown as
 * written, under a box listing the errors; saving the fixed post renders it again.
 *
 * With Hexo's default renderer, hexo-renderer-marked, which does not know math, every
 * expansion is sent back wrapped in `{% raw %}...{% endraw %}` (the `hexo` flavour):
 * Hexo lifts raw blocks out before the Markdown renderer runs and puts them back
 * afterwards, so the `\` row breaks and `_{...}` subscripts reach the page intact.
 * With any other renderer (markdown-it or pandoc with a math plugin) the expansions
 * are plain `$$...$$`, so that renderer typesets them.  `raw: true | false` overrides.
 *
 * _config.yml:
 *
 *     matdiff_tex:
 *       python: .venv/bin/python   # default: $MATDIFF_TEX_PYTHON, else python3
 *       layout: denominator        # site defaults: layout, steps, lang, shapes, templates, solutions
 *       lang: en
 *       raw: auto                  # auto (raw with hexo-renderer-marked) | true | false
 *       fail_on_error: true        # default: true for generate, false for server
 *       lint: warn                 # check the posts' own math: warn (default) | error | off
 */

const { spawn } = require('child_process');
const path = require('path');

const PRIORITY = 9;
const MARKDOWN = /\.(md|markdown)$/i;
const TRIGGERS = ['\\deriv', '\\hessian', '\\answer', 'matdiff-tex'];
// What may hold a derivative claim for `lint` (the same list as matdiff_tex.check.lint).
const CLAIM_TRIGGERS = ['\\partial', '\\nabla', '\\mathrm{d}', '\\mathrm d', '\\sum', '\\otimes',
  '\\operatorname{vec}'];
const LINT_MODES = ['warn', 'error', 'off'];
// hexo-front-matter's own pattern for `---` / `;;;` front matter at the top of a file.
const FRONT_MATTER = /^(-{3,}|;{3,})\n[\s\S]+?\n\1(?:\n|$)/;

/** One long-running `python -m matdiff_tex.integrations.batch`, JSON lines both ways. */
class BatchClient {
  constructor(python, cwd, log) {
    this.python = python;
    this.cwd = cwd;
    this.log = log;
    this.child = null;
    this.pending = new Map();
    this.nextId = 1;
    this.starts = 0;
    this.requests = 0;
    this.directives = 0;
    this.pid = null;
  }

  start() {
    const child = spawn(this.python, ['-m', 'matdiff_tex.integrations.batch'], {
      cwd: this.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    this.child = child;
    this.starts += 1;
    this.pid = child.pid;
    let buffer = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (line.trim()) this._reply(line);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-4000);
      for (const line of chunk.split('\n')) if (line.trim()) this.log.warn('matdiff-tex (python): %s', line);
    });
    const failAll = (message) => {
      if (this.child === child) this.child = null;
      for (const { reject } of this.pending.values()) reject(new Error(message));
      this.pending.clear();
    };
    child.on('error', (err) => failAll(
      `matdiff-tex: cannot run ${this.python} (${err.message}); set matdiff_tex.python in ` +
      '_config.yml or MATDIFF_TEX_PYTHON to a Python that has matdiff-tex installed'));
    child.on('exit', (code, signal) => failAll(
      `matdiff-tex: the Python process (${this.python}) ended early ` +
      `(${signal || `exit status ${code}`})${stderr.trim() ? `:\n${stderr.trim()}` : ''}`));
    child.stdin.on('error', () => {}); // a dead child is reported through 'exit' / 'error'
    return child;
  }

  _reply(line) {
    let reply;
    try {
      reply = JSON.parse(line);
    } catch (err) {
      this.log.warn('matdiff-tex: ignoring a line from Python that is not JSON: %s', line);
      return;
    }
    const waiter = this.pending.get(reply.id);
    if (!waiter) return;
    this.pending.delete(reply.id);
    this.directives += reply.directives || 0;
    waiter.resolve(reply);
  }

  /** Send one request; resolves with the reply `{id, text, errors, directives}`. */
  request(fields) {
    if (!this.child) this.start();
    const id = this.nextId++;
    this.requests += 1;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin.write(`${JSON.stringify({ id, ...fields })}\n`);
    });
  }

  /** Close the process's input: it answers what it has, then exits. */
  stop() {
    const child = this.child;
    this.child = null;
    if (child) child.stdin.end();
    return child;
  }
}

/** The front matter of `data` exactly as on disk (Hexo's `raw` is the whole file). */
function frontMatterOf(data) {
  const raw = typeof data.raw === 'string' ? data.raw : '';
  const content = data.content;
  if (raw && raw.length >= content.length && raw.endsWith(content)) {
    return raw.slice(0, raw.length - content.length);
  }
  const match = FRONT_MATTER.exec(raw);
  return match ? match[0] : '';
}

const BRIDGE_KEYS = new Set(['python', 'raw', 'fail_on_error', 'lint']);

/** Is the renderer Hexo uses for `.md` hexo-renderer-marked (which mangles math)? */
function rendersWithMarked(hexo) {
  const current = hexo.extend.renderer.get('md', true);
  if (!current) return false;
  try {
    const marked = require.resolve('hexo-renderer-marked/lib/renderer', { paths: [hexo.base_dir] });
    return require(marked) === current;
  } catch (err) {
    return false;
  }
}

/** Should the expansions of `data` be wrapped in {% raw %}? */
function wantsRaw(hexo, config, data) {
  const renderer = hexo.extend.renderer.get('md');
  const nunjucksOff = data.disableNunjucks === true || Boolean(renderer && renderer.disableNunjucks);
  if (nunjucksOff) return false; // {% raw %} would be printed as it stands
  if (config.raw === true || config.raw === false) return config.raw;
  return rendersWithMarked(hexo);
}

/** The errors as an HTML box above the post (shown by `hexo server` instead of failing). */
function errorBox(messages) {
  const escaped = messages.join('\n').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return '<pre class="matdiff-tex-error" style="border:2px solid #c00;padding:.5em;overflow-x:auto">' +
    `${escaped}</pre>\n\n`;
}

function register(hexo) {
  const config = hexo.config.matdiff_tex || {};
  const python = config.python || process.env.MATDIFF_TEX_PYTHON || 'python3';
  const siteOptions = {};
  for (const [key, value] of Object.entries(config)) if (!BRIDGE_KEYS.has(key)) siteOptions[key] = value;
  const serving = ['server', 's'].includes(hexo.env && hexo.env.cmd);
  const failOnError = typeof config.fail_on_error === 'boolean' ? config.fail_on_error : !serving;
  const reported = new Map(); // path -> the errors last logged for it (log each once)
  const lint = config.lint === undefined ? 'warn' : (config.lint === false ? 'off' : config.lint);
  if (!LINT_MODES.includes(lint)) {
    throw new Error(`matdiff-tex: matdiff_tex.lint in _config.yml must be warn, error or off, not ${lint}`);
  }
  let client = null;

  function stop() {
    if (!client) return;
    const done = client;
    client = null;
    const child = done.stop();
    if (child) {
      // counted when the process has answered everything and gone
      child.once('exit', () => hexo.log.info(
        'matdiff-tex: %d directive(s) in %d post(s), one Python process (pid %d)',
        done.directives, done.requests, done.pid));
    }
  }

  hexo.extend.filter.register('before_post_render', async function matdiffTex(data) {
    const source = data.full_source || data.source || '';
    if (!MARKDOWN.test(source) || typeof data.content !== 'string') return data;
    const linted = lint !== 'off' && CLAIM_TRIGGERS.some((trigger) => data.content.includes(trigger));
    if (!linted && !TRIGGERS.some((trigger) => data.content.includes(trigger))) return data;

    const frontMatter = frontMatterOf(data);
    const options = { ...siteOptions };
    // `;;;` JSON front matter: Hexo has read it for us.  Sent apart from the site's options:
    // the server refuses a template folder chosen by a post.
    const postOptions = !frontMatter.startsWith('---') && data.matdiff && typeof data.matdiff === 'object'
      ? data.matdiff : {};
    const shown = data.full_source ? path.relative(hexo.base_dir, data.full_source) : data.source;

    if (!('flavor' in options) && wantsRaw(hexo, config, data)) options.flavor = 'hexo';

    if (!client) client = new BatchClient(python, hexo.base_dir, hexo.log);
    let reply;
    try {
      reply = await client.request({
        path: shown,
        text: data.content,
        fmt: 'markdown',
        options,
        post_options: postOptions,
        front_matter: frontMatter,
        line_offset: 0,
        lint,
      });
    } catch (err) {
      if (failOnError) throw err;
      reply = { errors: [err.message] };
    }
    if (lint === 'warn') for (const message of reply.lint || []) hexo.log.warn(message);
    const errors = reply.errors || [];
    if (!errors.length) {
      reported.delete(shown);
      data.content = reply.text;
      return data;
    }
    const key = errors.join('\n');
    if (reported.get(shown) !== key) {
      for (const message of errors) hexo.log.error(message);
      reported.set(shown, key);
    }
    const count = errors.length;
    const summary = `matdiff-tex: ${count} error${count === 1 ? '' : 's'} in ${shown} (listed above)`;
    if (failOnError) throw new Error(summary);
    data.content = errorBox(errors) + data.content;
    return data;
  }, PRIORITY);

  hexo.on('generateAfter', stop);
  hexo.on('exit', stop);
  process.once('exit', () => { if (client && client.child) client.child.kill(); });
}

if (typeof hexo !== 'undefined') register(hexo);

module.exports = { register, BatchClient, frontMatterOf, wantsRaw, PRIORITY };
