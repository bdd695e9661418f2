/* The Slack stand-in page: draws the workspace the stand-in keeps (messages, threads, ephemerals, modals)
 * and turns what the person does into /ui/... calls, which the stand-in sends to the bot as signed Slack
 * requests. Follows changes with a long-poll on /ui/updates. Plain browser JavaScript, no build step.
 *
 * Stable hooks for browser tests:
 *   .message[data-ts][data-channel][data-kind="message"|"ephemeral"]   one message
 *   button.bk-button[data-action-id][data-block-id][data-value]         a Block Kit button (text as sent)
 *   .reply-count[data-ts]                                                opens the thread of that message
 *   #composer-input / #composer-send                                     the composer
 *   .channel[data-channel-id], #user-select                              channel list, user switcher
 *   #modal[data-view-id][data-callback-id], .bk-input[data-block-id],
 *   .input-error[data-block-id], #modal-submit, #modal-close             the open modal
 *   #confirm-dialog, #confirm-ok, #confirm-deny                           a button's confirm dialog
 *   body[data-seq]                                                       last update drawn
 */
(function () {
  "use strict";

  const state = {
    me: null,
    command: "/finetune",
    botConnected: false,
    botUserId: null,
    seq: 0,
    channels: new Map(),
    users: new Map(),
    messages: new Map(), // channel -> Map(ts -> message)
    ephemerals: new Map(), // id -> ephemeral (only mine)
    views: [],
    home: null, // my Home tab of the app, once it published one
    current: null, // a channel id, or HOME for the app's Home tab
    threadTs: null,
    unread: new Map(),
    pollGeneration: 0,
  };

  const $ = (id) => document.getElementById(id);
  const HOME = "@home";

  // ---- HTTP ---------------------------------------------------------------------------------------------

  async function getJSON(url) {
    const response = await fetch(url, { cache: "no-store" });
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return response.json();
  }

  async function postJSON(url, body) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(text || `HTTP ${response.status}`);
    return text ? JSON.parse(text) : {};
  }

  // ---- mrkdwn -------------------------------------------------------------------------------------------

  const EMOJI = {
    white_check_mark: "✅", heavy_check_mark: "✔️", x: "❌", warning: "⚠️", rocket: "🚀", hourglass: "⌛",
    hourglass_flowing_sand: "⏳", pause_button: "⏸️", arrow_forward: "▶️", stop_button: "⏹️", no_entry: "⛔",
    no_entry_sign: "🚫", octagonal_sign: "🛑", large_green_circle: "🟢", large_yellow_circle: "🟡",
    large_red_circle: "🔴", large_blue_circle: "🔵", white_circle: "⚪", black_circle: "⚫", red_circle: "🔴",
    construction: "🚧", gear: "⚙️", tada: "🎉", clock1: "🕐", stopwatch: "⏱️", alarm_clock: "⏰",
    chart_with_upwards_trend: "📈", chart_with_downwards_trend: "📉", bar_chart: "📊", mag: "🔍",
    information_source: "ℹ️", question: "❓", exclamation: "❗", bulb: "💡", lock: "🔒", key: "🔑",
    eyes: "👀", wave: "👋", thumbsup: "👍", "+1": "👍", thumbsdown: "👎", fire: "🔥", sparkles: "✨",
    robot_face: "🤖", brain: "🧠", package: "📦", floppy_disk: "💾", file_folder: "📁", memo: "📝",
    link: "🔗", bell: "🔔", no_bell: "🔕", repeat: "🔁", arrows_counterclockwise: "🔄", recycle: "♻️",
    zzz: "💤", skull: "💀", boom: "💥", checkered_flag: "🏁", calendar: "📅", date: "📅", ok: "🆗",
    new: "🆕", heavy_plus_sign: "➕", heavy_minus_sign: "➖", hammer_and_wrench: "🛠️", test_tube: "🧪",
    microscope: "🔬", dna: "🧬", crystal_ball: "🔮", speech_balloon: "💬", thinking_face: "🤔",
    slightly_smiling_face: "🙂", smile: "😄", pushpin: "📌", round_pushpin: "📍", money_with_wings: "💸",
    moneybag: "💰", hourglass_done: "⌛", twisted_rightwards_arrows: "🔀", grey_question: "❔",
    heavy_exclamation_mark: "❗", ballot_box_with_check: "☑️", radio_button: "🔘", green_heart: "💚",
  };

  function escapeHtml(text) {
    return String(text)
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;");
  }

  // Slack escapes &, < and > in message text; control sequences <...> are the unescaped brackets.
  function decodeEntities(text) {
    return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  function emojify(html) {
    return html.replace(/:([a-z0-9_+-]+):/g, (whole, name) => EMOJI[name] || whole);
  }

  function userName(id) {
    const user = state.users.get(id);
    return user ? user.name : id;
  }

  function safeHref(url) {
    return /^(https?:|mailto:)/i.test(url) ? url : null;
  }

  function controlSequence(inner) {
    const bar = inner.indexOf("|");
    const target = bar >= 0 ? inner.slice(0, bar) : inner;
    const label = bar >= 0 ? inner.slice(bar + 1) : null;
    if (target.startsWith("@")) {
      const id = target.slice(1);
      return `<span class="mention" data-user-id="${escapeHtml(id)}">@${escapeHtml(label || userName(id))}</span>`;
    }
    if (target.startsWith("#")) {
      const id = target.slice(1);
      const channel = state.channels.get(id);
      return `<span class="mention" data-channel-id="${escapeHtml(id)}">#${escapeHtml(label || (channel ? channel.name : id))}</span>`;
    }
    if (target.startsWith("!")) {
      const special = target.slice(1);
      if (special.startsWith("date^")) return escapeHtml(decodeEntities(label || special));
      const name = special.split("^")[0];
      return `<span class="mention">@${escapeHtml(label || name)}</span>`;
    }
    const href = safeHref(decodeEntities(target));
    const shown = escapeHtml(decodeEntities(label || target));
    return href ? `<a href="${escapeHtml(href)}" target="_blank" rel="noopener noreferrer">${shown}</a>` : shown;
  }

  function mrkdwn(source) {
    const saved = [];
    const keep = (html) => `\u0000${saved.push(html) - 1}\u0000`;
    let text = String(source || "");
    // Code first: nothing inside code is formatted.
    text = text.replace(/```([\s\S]*?)```/g, (_, code) => keep(`<pre>${escapeHtml(decodeEntities(code.replace(/^\n/, "")))}</pre>`));
    text = text.replace(/`([^`\n]+)`/g, (_, code) => keep(`<code>${escapeHtml(decodeEntities(code))}</code>`));
    text = text.replace(/<([^<>\n]+)>/g, (_, inner) => keep(controlSequence(inner)));
    let html = escapeHtml(decodeEntities(text));
    const edge = "(^|[\\s(\\[{\"'>\\u0000])";
    const end = "(?=$|[\\s.,!?;:)\\]}\"'<\\u0000])";
    html = html.replace(new RegExp(`${edge}\\*([^*\\n]+?)\\*${end}`, "g"), "$1<b>$2</b>");
    html = html.replace(new RegExp(`${edge}_([^_\\n]+?)_${end}`, "g"), "$1<i>$2</i>");
    html = html.replace(new RegExp(`${edge}~([^~\\n]+?)~${end}`, "g"), "$1<s>$2</s>");
    html = html
      .split("\n")
      .map((line) => (line.startsWith("&gt; ") || line === "&gt;" ? `<blockquote>${line.slice(5)}</blockquote>` : line))
      .join("\n");
    html = emojify(html).replace(/\n/g, "<br>").replace(/<\/blockquote><br>/g, "</blockquote>");
    return html.replace(/\u0000(\d+)\u0000/g, (_, i) => saved[Number(i)]);
  }

  function textObject(object) {
    if (!object) return "";
    if (object.type === "mrkdwn") return mrkdwn(object.text);
    const html = escapeHtml(object.text || "").replace(/\n/g, "<br>");
    return object.emoji === false ? html : emojify(html);
  }

  function plainText(object) {
    return object && object.text ? String(object.text) : "";
  }

  // ---- Block Kit ------------------------------------------------------------------------------------------

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "className") node.className = value;
      else if (key === "html") node.innerHTML = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children || []) if (child) node.append(child);
    return node;
  }

  /* ctx: {where: "message", message, ephemeral} or {where: "view", view}: says where a click goes. */
  function renderBlocks(blocks, ctx) {
    const box = el("div", { className: "blocks" });
    for (const block of blocks || []) box.append(renderBlock(block, ctx));
    return box;
  }

  function renderBlock(block, ctx) {
    const id = block.block_id;
    switch (block.type) {
      case "header":
        return el("div", { className: "bk-block bk-header", "data-block-id": id, html: textObject(block.text) });
      case "divider":
        return el("hr", { className: "bk-divider", "data-block-id": id });
      case "section": {
        const main = el("div", { className: "bk-section-main" });
        if (block.text) main.append(el("div", { className: "bk-text", html: textObject(block.text) }));
        if (block.fields) {
          main.append(el("div", { className: "bk-fields" }, block.fields.map((f) => el("div", { className: "bk-field", html: textObject(f) }))));
        }
        const section = el("div", { className: "bk-block bk-section", "data-block-id": id }, [main]);
        if (block.accessory) section.append(renderElement(block.accessory, block, ctx));
        return section;
      }
      case "context":
        return el(
          "div",
          { className: "bk-block bk-context", "data-block-id": id },
          (block.elements || []).map((item) =>
            item.type === "image" ? el("span", { className: "bk-image", text: `🖼 ${item.alt_text || "image"}` }) : el("span", { html: textObject(item) })
          )
        );
      case "actions":
        return el("div", { className: "bk-block bk-actions", "data-block-id": id }, (block.elements || []).map((item) => renderElement(item, block, ctx)));
      case "image":
        return el("div", { className: "bk-block" }, [
          block.title ? el("div", { html: textObject(block.title) }) : null,
          el("span", { className: "bk-image", text: `🖼 ${block.alt_text || "image"}` }),
        ]);
      case "input":
        return renderInput(block, ctx);
      case "markdown":
        return el("div", { className: "bk-block bk-text", html: mrkdwn(block.text) });
      case "rich_text":
        return el("div", { className: "bk-block bk-text", html: mrkdwn(richTextToPlain(block)) });
      default:
        return el("div", { className: "bk-block bk-unknown", text: `[${block.type} block]` });
    }
  }

  function richTextToPlain(node) {
    if (!node) return "";
    if (typeof node.text === "string") return node.text;
    if (node.type === "user") return `<@${node.user_id}>`;
    if (node.type === "link") return node.url;
    return (node.elements || []).map(richTextToPlain).join(node.type === "rich_text_list" ? "\n" : "");
  }

  function renderElement(element, block, ctx) {
    const common = { "data-action-id": element.action_id, "data-block-id": block.block_id };
    if (element.type === "button") {
      const style = element.style ? ` bk-${element.style}` : "";
      const button = el("button", {
        type: "button",
        className: `bk-button${style}`,
        ...common,
        "data-value": element.value,
        "data-url": element.url,
        "data-confirm": element.confirm ? "true" : null,
        html: textObject(element.text),
      });
      button.addEventListener("click", () => onButton(button, element, block, ctx));
      return button;
    }
    if (element.type === "static_select" || element.type === "overflow") {
      const options = optionsOf(element);
      const select = el("select", { className: "bk-select", ...common }, [
        el("option", { value: "", text: element.type === "overflow" ? "⋯" : plainText(element.placeholder) || "Select an item" }),
        ...options.map((o) => el("option", { value: o.value, text: plainText(o.text) })),
      ]);
      if (ctx.where === "message") {
        select.addEventListener("change", () => {
          if (select.value) act(select, element, block, ctx, select.value);
        });
      }
      return select;
    }
    if (element.type === "image") return el("span", { className: "bk-image", text: `🖼 ${element.alt_text || "image"}` });
    return el("span", { className: "bk-unknown", text: `[${element.type}]` });
  }

  function optionsOf(element) {
    const options = [...(element.options || [])];
    for (const group of element.option_groups || []) options.push(...(group.options || []));
    return options;
  }

  // ---- clicks -------------------------------------------------------------------------------------------

  async function onButton(button, element, block, ctx) {
    const href = element.url ? safeHref(element.url) : null;
    if (href) window.open(href, "_blank", "noopener");
    if (element.confirm && !(await confirmDialog(element.confirm))) return;
    await act(button, element, block, ctx, element.value);
  }

  async function act(node, element, block, ctx, value) {
    node.classList.add("pending");
    node.disabled = true;
    try {
      if (ctx.where === "home") {
        await postJSON("/ui/home_action", {
          user: state.me,
          action_id: element.action_id,
          block_id: block.block_id,
          value: value === undefined ? null : value,
        });
      } else if (ctx.where === "view") {
        await postJSON("/ui/view_action", {
          user: state.me,
          view_id: ctx.view.id,
          action_id: element.action_id,
          block_id: block.block_id,
          value: value === undefined ? null : value,
          values: collectModalValues(),
        });
      } else {
        await postJSON("/ui/click", {
          user: state.me,
          channel: ctx.message.standin.channel,
          ts: ctx.message.ts,
          ephemeral: Boolean(ctx.ephemeral),
          action_id: element.action_id,
          block_id: block.block_id,
          value: value === undefined ? null : value,
        });
      }
    } catch (error) {
      showProblem(`That click failed: ${error.message}`);
    } finally {
      node.classList.remove("pending");
      node.disabled = false;
    }
  }

  function confirmDialog(confirm) {
    return new Promise((resolve) => {
      const backdrop = $("confirm-backdrop");
      $("confirm-title").textContent = plainText(confirm.title) || "Are you sure?";
      $("confirm-text").innerHTML = textObject(confirm.text);
      const ok = $("confirm-ok");
      const deny = $("confirm-deny");
      ok.textContent = plainText(confirm.confirm) || "Yes";
      deny.textContent = plainText(confirm.deny) || "Cancel";
      ok.className = `bk-button ${confirm.style === "danger" ? "bk-danger" : "bk-primary"}`;
      backdrop.hidden = false;
      const finish = (answer) => {
        backdrop.hidden = true;
        ok.onclick = deny.onclick = null;
        document.removeEventListener("keydown", onKey);
        resolve(answer);
      };
      const onKey = (event) => {
        if (event.key === "Escape") finish(false);
      };
      ok.onclick = () => finish(true);
      deny.onclick = () => finish(false);
      document.addEventListener("keydown", onKey);
      ok.focus();
    });
  }

  function showProblem(text) {
    $("composer-hint").textContent = text;
    $("composer-hint").dataset.problem = "true";
  }

  // ---- messages ---------------------------------------------------------------------------------------------

  function tsTime(ts) {
    const date = new Date(parseFloat(ts) * 1000);
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function initials(name) {
    return (name || "?").trim().charAt(0).toUpperCase() || "?";
  }

  function renderMessage(message, options) {
    const info = message.standin || {};
    const ephemeral = info.source !== undefined;
    const author = info.author || userName(message.user);
    const ctx = { where: "message", message, ephemeral };
    const meta = el("div", { className: "meta" }, [
      el("span", { className: "author", text: author }),
      info.is_bot || (ephemeral && info.source !== "slack") ? el("span", { className: "app-badge", text: "APP" }) : null,
      el("span", { className: "time", title: message.ts, text: tsTime(message.ts) }),
      info.edited ? el("span", { className: "edited", text: "(edited)" }) : null,
    ]);
    const content = el("div", { className: "content" }, [meta]);
    if (ephemeral) content.append(el("div", { className: "ephemeral-note", text: "Only visible to you" }));
    if (info.reply_broadcast && options.inChannel) {
      content.append(el("div", { className: "broadcast-note", text: "replied to a thread" }));
    }
    if (message.blocks && message.blocks.length) content.append(renderBlocks(message.blocks, ctx));
    else if (message.text) content.append(el("div", { className: "text", html: mrkdwn(message.text) }));
    if (message.files && message.files.length) {
      content.append(
        el("div", { className: "files" }, message.files.map((f) => el("span", { className: "file-chip", "data-file-id": f.id, text: `📄 ${f.name} (${f.size} bytes)` })))
      );
    }
    if (options.inChannel && !ephemeral && message.reply_count) {
      const count = message.reply_count;
      content.append(
        el("button", {
          type: "button",
          className: "reply-count",
          "data-ts": message.ts,
          text: `${count} ${count === 1 ? "reply" : "replies"}`,
          onclick: () => openThread(message.ts),
        })
      );
    }
    return el(
      "div",
      {
        className: `message${info.is_bot || (ephemeral && info.source !== "slack") ? " from-bot" : ""}${ephemeral ? " ephemeral" : ""}`,
        "data-ts": message.ts,
        "data-channel": info.channel,
        "data-kind": ephemeral ? "ephemeral" : "message",
        "data-thread-ts": message.thread_ts || null,
        "data-source": ephemeral ? info.source : null,
      },
      [el("div", { className: "avatar", text: initials(author) }), content]
    );
  }

  function channelMessages(channel) {
    return state.messages.get(channel) || new Map();
  }

  function byTs(a, b) {
    return parseFloat(a.ts) - parseFloat(b.ts);
  }

  // The app's Home tab: what the app last published for me (views.publish), buttons and all.
  function renderHome() {
    $("channel-name").textContent = "TuneOps · Home";
    $("channel-state").textContent = "";
    $("bot-state").textContent = state.botConnected ? "" : "· no app connected";
    $("composer").hidden = true;
    $("thread-pane").hidden = true;
    const list = $("message-list");
    const body = state.home
      ? el("div", { id: "home-tab", "data-view-id": state.home.id }, [renderBlocks(state.home.blocks, { where: "home", view: state.home })])
      : el("div", { id: "home-tab", className: "empty-channel", text: "The app has not published a Home tab for you yet." });
    list.replaceChildren(body);
  }

  function openHome() {
    state.current = HOME;
    state.threadTs = null;
    history.replaceState(null, "", `#${HOME}`);
    renderChannelList();
    renderChannel();
    postJSON("/ui/home", { user: state.me }).catch((error) => showProblem(`Opening Home failed: ${error.message}`));
  }

  function renderChannel() {
    $("home-link").classList.toggle("active", state.current === HOME);
    document.body.dataset.home = String(state.current === HOME);
    if (state.current === HOME) return renderHome();
    $("composer").hidden = false;
    const list = $("message-list");
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    const channel = state.channels.get(state.current);
    $("channel-name").textContent = channel ? channel.name : state.current;
    $("channel-state").textContent = channel && channel.is_archived ? "(archived)" : channel && !channel.is_member ? "(app not a member)" : "";
    $("bot-state").textContent = state.botConnected ? "" : "· no app connected";
    $("composer-input").placeholder = `Message #${channel ? channel.name : ""} — try ${state.command} help`;

    const visible = [...channelMessages(state.current).values()].filter((m) => !m.standin.is_reply || m.standin.reply_broadcast);
    const mine = [...state.ephemerals.values()].filter((e) => e.standin.channel === state.current && !e.thread_ts);
    const items = [...visible, ...mine].sort(byTs);
    list.replaceChildren(...items.map((m) => renderMessage(m, { inChannel: true })));
    if (!items.length) list.append(el("div", { className: "empty-channel", text: `This is the very beginning of #${channel ? channel.name : ""}. Type ${state.command} help below.` }));
    if (atBottom) list.scrollTop = list.scrollHeight;
    renderThread();
  }

  function openThread(ts) {
    state.threadTs = ts;
    renderThread();
  }

  function renderThread() {
    const pane = $("thread-pane");
    const parent = state.threadTs ? channelMessages(state.current).get(state.threadTs) : null;
    if (!parent) {
      pane.hidden = true;
      return;
    }
    pane.hidden = false;
    const channel = state.channels.get(state.current);
    $("thread-channel").textContent = `#${channel ? channel.name : state.current}`;
    const replies = [...channelMessages(state.current).values()].filter((m) => m.standin.is_reply && m.thread_ts === parent.ts);
    const mine = [...state.ephemerals.values()].filter((e) => e.standin.channel === state.current && e.thread_ts === parent.ts);
    const items = [...replies, ...mine].sort(byTs);
    const box = $("thread-messages");
    box.replaceChildren(
      renderMessage(parent, { inChannel: false }),
      el("div", { className: "thread-divider", text: `${replies.length} ${replies.length === 1 ? "reply" : "replies"}` }),
      ...items.map((m) => renderMessage(m, { inChannel: false }))
    );
    box.scrollTop = box.scrollHeight;
  }

  function renderChannelList() {
    const list = $("channel-list");
    const channels = [...state.channels.values()].sort((a, b) => a.name.localeCompare(b.name));
    list.replaceChildren(
      ...channels.map((channel) => {
        const unread = state.unread.get(channel.id) || 0;
        return el(
          "li",
          {
            className: `channel${channel.id === state.current ? " active" : ""}`,
            "data-channel-id": channel.id,
            onclick: () => switchChannel(channel.id),
          },
          [
            el("span", { text: channel.is_private ? "🔒" : "#" }),
            el("span", { className: "channel-name", text: channel.name }),
            channel.is_archived ? el("span", { className: "channel-flag", text: "archived" }) : null,
            unread && channel.id !== state.current ? el("span", { className: "unread", text: String(unread) }) : null,
          ]
        );
      })
    );
  }

  function renderUsers() {
    const select = $("user-select");
    const people = [...state.users.values()].filter((u) => !u.is_bot);
    select.replaceChildren(...people.map((u) => el("option", { value: u.id, text: `${u.real_name} (${u.id})`, selected: u.id === state.me })));
  }

  function switchChannel(id) {
    state.current = id;
    state.threadTs = null;
    state.unread.delete(id);
    history.replaceState(null, "", `#${id}`);
    renderChannelList();
    renderChannel();
  }

  // ---- modals -------------------------------------------------------------------------------------------------

  function renderInput(block, ctx) {
    const element = block.element || {};
    const inputId = `input-${block.block_id}`;
    const errors = (ctx.view && ctx.view.standin_errors) || {};
    const error = errors[block.block_id] || "";
    const common = { id: inputId, "data-block-id": block.block_id, "data-action-id": element.action_id, "data-type": element.type };
    let control;
    switch (element.type) {
      case "plain_text_input":
        control = element.multiline
          ? el("textarea", { ...common, placeholder: plainText(element.placeholder), maxlength: element.max_length })
          : el("input", { ...common, type: "text", placeholder: plainText(element.placeholder), maxlength: element.max_length });
        control.value = element.initial_value || "";
        break;
      case "number_input":
        control = el("input", { ...common, type: "number", step: element.is_decimal_allowed ? "any" : "1", min: element.min_value, max: element.max_value, placeholder: plainText(element.placeholder) });
        control.value = element.initial_value || "";
        break;
      case "file_input":
        // The file is sent to the stand-in as soon as it is picked, as Slack's client uploads it; the
        // submission then carries its id.
        control = el("input", { ...common, type: "file", accept: (element.filetypes || []).map((t) => `.${t}`).join(",") });
        control.addEventListener("change", async () => {
          delete control.dataset.fileId;
          const file = control.files[0];
          if (file) control.dataset.fileId = (await sendFile(file, false)).file_id;
        });
        break;
      case "datepicker":
        control = el("input", { ...common, type: "date" });
        control.value = element.initial_date || "";
        break;
      case "static_select": {
        const initial = element.initial_option ? element.initial_option.value : "";
        control = el("select", common, [
          el("option", { value: "", text: plainText(element.placeholder) || "Select an item" }),
          ...optionsOf(element).map((o) => el("option", { value: o.value, text: plainText(o.text), selected: o.value === initial })),
        ]);
        break;
      }
      case "radio_buttons":
      case "checkboxes": {
        const kind = element.type === "radio_buttons" ? "radio" : "checkbox";
        const initial = new Set([element.initial_option, ...(element.initial_options || [])].filter(Boolean).map((o) => o.value));
        control = el(
          "div",
          { ...common, role: "group" },
          optionsOf(element).map((o) =>
            el("label", { className: "choice" }, [el("input", { type: kind, name: inputId, value: o.value, checked: initial.has(o.value) }), ` ${plainText(o.text)}`])
          )
        );
        break;
      }
      default:
        control = el("input", { ...common, type: "text" });
    }
    return el("div", { className: `bk-block bk-input${error ? " has-error" : ""}`, "data-block-id": block.block_id }, [
      el("label", { for: inputId }, [plainText(block.label), block.optional ? el("span", { className: "optional", text: " (optional)" }) : null]),
      control,
      block.hint ? el("div", { className: "hint", html: textObject(block.hint) }) : null,
      el("div", { className: "input-error", "data-block-id": block.block_id, text: error }),
    ]);
  }

  function collectModalValues() {
    const values = {};
    for (const node of document.querySelectorAll("#modal-blocks [data-action-id][data-type]")) {
      const blockId = node.dataset.blockId;
      const actionId = node.dataset.actionId;
      let value;
      if (node.dataset.type === "checkboxes") {
        value = [...node.querySelectorAll("input:checked")].map((i) => i.value);
      } else if (node.dataset.type === "radio_buttons") {
        const chosen = node.querySelector("input:checked");
        value = chosen ? chosen.value : null;
      } else if (node.dataset.type === "file_input") {
        value = node.dataset.fileId ? [node.dataset.fileId] : null;
      } else {
        value = node.value === "" ? null : node.value;
      }
      values[blockId] = { [actionId]: value };
    }
    return values;
  }

  function restoreModalValues(values) {
    for (const [blockId, byAction] of Object.entries(values)) {
      for (const [actionId, value] of Object.entries(byAction)) {
        const node = document.querySelector(`#modal-blocks [data-block-id="${CSS.escape(blockId)}"][data-action-id="${CSS.escape(actionId)}"][data-type]`);
        if (!node) continue;
        if (node.dataset.type === "file_input") {
          if (value && value.length) node.dataset.fileId = value[0]; // a file input cannot be refilled
        } else if (node.dataset.type === "checkboxes" || node.dataset.type === "radio_buttons") {
          const chosen = new Set(Array.isArray(value) ? value : [value]);
          for (const input of node.querySelectorAll("input")) input.checked = chosen.has(input.value);
        } else {
          node.value = value === null ? "" : value;
        }
      }
    }
  }

  function renderModal() {
    const backdrop = $("modal-backdrop");
    const modal = $("modal");
    const view = state.views[state.views.length - 1];
    if (!view) {
      backdrop.hidden = true;
      modal.removeAttribute("data-view-id");
      return;
    }
    // Slack keeps what the person typed when the same modal is redrawn (errors shown, view updated).
    const keep = modal.dataset.viewId === view.id ? collectModalValues() : null;
    modal.dataset.viewId = view.id;
    modal.dataset.callbackId = view.callback_id || "";
    $("modal-title").textContent = plainText(view.title);
    $("modal-blocks").replaceChildren(renderBlocks(view.blocks, { where: "view", view }));
    if (keep) restoreModalValues(keep);
    const general = (view.standin_errors || {})[""];
    $("modal-general-error").hidden = !general;
    $("modal-general-error").textContent = general || "";
    const submit = $("modal-submit");
    submit.hidden = !view.submit;
    submit.textContent = plainText(view.submit) || "Submit";
    $("modal-close").textContent = plainText(view.close) || "Cancel";
    backdrop.hidden = false;
  }

  async function submitModal() {
    const view = state.views[state.views.length - 1];
    if (!view) return;
    const submit = $("modal-submit");
    submit.disabled = true;
    try {
      await postJSON("/ui/submit", { user: state.me, view_id: view.id, values: collectModalValues() });
    } catch (error) {
      $("modal-general-error").hidden = false;
      $("modal-general-error").textContent = error.message;
    } finally {
      submit.disabled = false;
    }
  }

  async function closeModal() {
    const view = state.views[state.views.length - 1];
    if (!view) return;
    try {
      await postJSON("/ui/close_view", { user: state.me, view_id: view.id });
    } catch (error) {
      $("modal-backdrop").hidden = true;
    }
  }

  // ---- composer -----------------------------------------------------------------------------------------------

  async function send(event) {
    if (event) event.preventDefault();
    const input = $("composer-input");
    const text = input.value.trim();
    if (!text) return;
    const button = $("composer-send");
    button.disabled = true;
    input.value = "";
    updateHint();
    try {
      const answer = await postJSON("/ui/command", { user: state.me, channel: state.current, text });
      if (answer.status && answer.status !== 200) showProblem(`The app answered HTTP ${answer.status}.`);
    } catch (error) {
      input.value = text;
      showProblem(`Could not send: ${error.message}`);
    } finally {
      button.disabled = false;
      input.focus();
    }
  }

  // A file from this computer: shared in the channel (the app gets Slack's file_share event), or only
  // stored for a modal's file input.
  async function sendFile(file, share) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return postJSON("/ui/files", { user: state.me, channel: state.current, name: file.name, content_base64: btoa(binary), share });
  }

  async function attach() {
    const input = $("composer-file");
    const file = input.files[0];
    input.value = "";
    if (!file) return;
    try {
      await sendFile(file, true);
    } catch (error) {
      showProblem(`Could not share the file: ${error.message}`);
    }
  }

  function updateHint() {
    const hint = $("composer-hint");
    const text = $("composer-input").value;
    delete hint.dataset.problem;
    if (text.startsWith("/")) {
      hint.innerHTML = `Slash command: goes to the app as a signed request (<code>${escapeHtml(state.command)}</code>)`;
    } else {
      hint.innerHTML = `Enter to send · Shift+Enter for a new line · <code>${escapeHtml(state.command)} help</code> lists what the app can do`;
    }
  }

  // ---- state and updates -----------------------------------------------------------------------------------

  function upsertMessage(message) {
    const channel = message.standin.channel;
    if (!state.messages.has(channel)) state.messages.set(channel, new Map());
    const known = state.messages.get(channel).has(message.ts);
    state.messages.get(channel).set(message.ts, message);
    if (!known && channel !== state.current && !message.standin.is_reply) {
      state.unread.set(channel, (state.unread.get(channel) || 0) + 1);
    }
  }

  function applyUpdate(update) {
    switch (update.kind) {
      case "message":
        upsertMessage(update.message);
        break;
      case "delete": {
        const channel = state.messages.get(update.channel);
        if (channel) channel.delete(update.ts);
        if (state.threadTs === update.ts) state.threadTs = null;
        break;
      }
      case "ephemeral":
        if (update.user !== state.me) break;
        if (update.message.standin.deleted) state.ephemerals.delete(update.message.ts);
        else state.ephemerals.set(update.message.ts, update.message);
        break;
      case "view":
        if (update.user === state.me) state.views = update.views;
        break;
      case "home":
        if (update.user === state.me) state.home = update.view;
        break;
      default:
        break;
    }
  }

  async function refreshDirectory() {
    const snapshot = await getJSON(`/ui/state?user=${encodeURIComponent(state.me)}`);
    state.channels = new Map(snapshot.channels.map((c) => [c.id, c]));
    state.users = new Map(snapshot.users.map((u) => [u.id, u]));
    state.botConnected = snapshot.bot_connected;
  }

  async function load() {
    const snapshot = await getJSON(`/ui/state?user=${encodeURIComponent(state.me)}`);
    state.seq = snapshot.seq;
    state.command = snapshot.command;
    state.botConnected = snapshot.bot_connected;
    state.botUserId = snapshot.bot_user_id;
    state.channels = new Map(snapshot.channels.map((c) => [c.id, c]));
    state.users = new Map(snapshot.users.map((u) => [u.id, u]));
    state.messages = new Map();
    for (const messages of Object.values(snapshot.messages)) for (const m of messages) upsertMessage(m);
    state.unread = new Map();
    state.ephemerals = new Map(snapshot.ephemerals.map((e) => [e.ts, e]));
    state.views = snapshot.views;
    state.home = snapshot.home || null;
    const wanted = decodeURIComponent(location.hash.slice(1));
    if (wanted === HOME) state.current = HOME;
    if (!state.current || (state.current !== HOME && !state.channels.has(state.current))) {
      state.current = state.channels.has(wanted) ? wanted : state.channels.has("C_ML") ? "C_ML" : [...state.channels.keys()][0];
    }
    renderUsers();
    renderChannelList();
    renderChannel();
    renderModal();
    updateHint();
    document.body.dataset.seq = String(state.seq);
    document.body.dataset.me = state.me;
    setConnection("live", "live");
  }

  function setConnection(kind, text) {
    $("connection-status").dataset.state = kind;
    $("connection-status").textContent = text;
  }

  async function poll(generation) {
    while (generation === state.pollGeneration) {
      try {
        const answer = await getJSON(`/ui/updates?since=${state.seq}&user=${encodeURIComponent(state.me)}&timeout=25`);
        if (generation !== state.pollGeneration) return;
        setConnection("live", "live");
        if (answer.reset) {
          await load();
          continue;
        }
        let directory = false;
        let views = false;
        for (const update of answer.updates) {
          applyUpdate(update);
          if (update.kind === "directory") directory = true;
          if (update.kind === "view" && update.user === state.me) views = true;
        }
        if (directory) await refreshDirectory();
        state.seq = answer.seq;
        if (answer.updates.length) {
          if (directory) renderUsers();
          renderChannelList();
          renderChannel();
          // Redraw the modal only when it changed, so typing in it is not interrupted.
          if (views) renderModal();
        }
        document.body.dataset.seq = String(state.seq);
      } catch (error) {
        setConnection("offline", "reconnecting…");
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  async function start() {
    const params = new URLSearchParams(location.search);
    state.me = params.get("user") || localStorage.getItem("standin-user") || "U_SANDBOX";
    try {
      await load();
    } catch (error) {
      setConnection("offline", `cannot reach the stand-in: ${error.message}`);
      setTimeout(start, 1000);
      return;
    }
    state.pollGeneration += 1;
    poll(state.pollGeneration);
  }

  // ---- wiring -----------------------------------------------------------------------------------------------

  $("composer").addEventListener("submit", send);
  $("composer-input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) send(event);
  });
  $("composer-input").addEventListener("input", updateHint);
  $("composer-attach").addEventListener("click", () => $("composer-file").click());
  $("composer-file").addEventListener("change", attach);
  $("user-select").addEventListener("change", async (event) => {
    state.me = event.target.value;
    localStorage.setItem("standin-user", state.me);
    state.pollGeneration += 1;
    await load();
    poll(state.pollGeneration);
  });
  $("home-link").addEventListener("click", openHome);
  $("thread-close").addEventListener("click", () => {
    state.threadTs = null;
    renderThread();
  });
  $("modal-submit").addEventListener("click", submitModal);
  $("modal-form").addEventListener("submit", (event) => {
    event.preventDefault();
    submitModal();
  });
  $("modal-close").addEventListener("click", closeModal);
  $("modal-x").addEventListener("click", closeModal);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !$("modal-backdrop").hidden && $("confirm-backdrop").hidden) closeModal();
  });

  window.standin = { state, mrkdwn }; // for debugging in the browser console
  start();
})();
