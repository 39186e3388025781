-- Drives Neovim (0.7+) against `torchmode lsp` on the buffer it was started with:
-- waits for the TM101 diagnostic, hovers on `model.eval()`, applies the preferred code
-- action (resolving its edit when the server defers it), writes the buffer, and records
-- what it saw as JSON in $TORCHMODE_REPORT. Run with:
--   nvim --headless --clean -c "luafile neovim_session.lua" train.py
local report_path = os.getenv("TORCHMODE_REPORT")
local python = os.getenv("TORCHMODE_PYTHON") or "python3"
local report = { steps = {} }

local function save_report()
  local file = assert(io.open(report_path, "w"))
  file:write(vim.fn.json_encode(report))
  file:close()
end

local function step(name) table.insert(report.steps, name) end

local function run()
  local bufnr = vim.api.nvim_get_current_buf()
  local client_id = vim.lsp.start_client({
    name = "torchmode",
    cmd = { python, "-m", "torchmode.lsp" },
    root_dir = vim.fn.getcwd(),
  })
  assert(client_id, "the server did not start")
  vim.lsp.buf_attach_client(bufnr, client_id)
  step("attached")

  local found
  vim.wait(60000, function()
    for _, d in ipairs(vim.diagnostic.get(bufnr)) do
      if d.code == "TM101" or (d.user_data and d.user_data.lsp and d.user_data.lsp.code == "TM101") then
        found = d
        return true
      end
    end
    return false
  end, 50)
  assert(found, "no TM101 diagnostic arrived")
  report.diagnostic = { line = found.lnum, col = found.col, message = found.message, source = found.source }
  step("diagnostic")

  local client = vim.lsp.get_client_by_id(client_id)
  -- Hover on `eval` of the reported `model.eval()`.
  vim.api.nvim_win_set_cursor(0, { found.lnum + 1, found.col + #"model." })
  local hover = vim.lsp.buf_request_sync(bufnr, "textDocument/hover", vim.lsp.util.make_position_params(), 20000)
  for _, response in pairs(hover or {}) do
    if response.result and response.result.contents then
      report.hover = response.result.contents.value or response.result.contents
    end
  end
  step("hover")

  -- Neovim 0.7 keeps only the non-standard fields of the LSP diagnostic in user_data.lsp;
  -- rebuild the full one for the code action context.
  local lsp_diagnostic = vim.deepcopy((found.user_data and found.user_data.lsp) or {})
  lsp_diagnostic.range = {
    start = { line = found.lnum, character = found.col },
    ["end"] = { line = found.end_lnum, character = found.end_col },
  }
  lsp_diagnostic.message = found.message
  lsp_diagnostic.source = found.source
  lsp_diagnostic.severity = found.severity
  lsp_diagnostic.code = lsp_diagnostic.code or found.code
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    range = lsp_diagnostic.range,
    context = { diagnostics = { lsp_diagnostic } },
  }
  local responses = vim.lsp.buf_request_sync(bufnr, "textDocument/codeAction", params, 20000)
  local preferred
  report.actions = {}
  for _, response in pairs(responses or {}) do
    if response.err then report.action_error = vim.inspect(response.err) end
    for _, action in ipairs(response.result or {}) do
      table.insert(report.actions, action.title)
      if action.isPreferred and not preferred then preferred = action end
    end
  end
  assert(preferred, "no preferred code action")
  if not preferred.edit then
    local resolved = client.request_sync("codeAction/resolve", preferred, 20000, bufnr)
    assert(resolved and resolved.result, "codeAction/resolve failed")
    preferred = resolved.result
  end
  report.applied = preferred.title
  vim.lsp.util.apply_workspace_edit(preferred.edit, client.offset_encoding or "utf-16")
  vim.cmd("write")
  step("fixed")

  -- The fixed buffer is re-analysed: wait until TM101 is gone.
  local cleared = vim.wait(60000, function()
    for _, d in ipairs(vim.diagnostic.get(bufnr)) do
      if d.code == "TM101" or (d.user_data and d.user_data.lsp and d.user_data.lsp.code == "TM101") then
        return false
      end
    end
    return true
  end, 50)
  report.cleared = cleared
  step("cleared")
end

local ok, err = pcall(run)
report.ok = ok
report.error = ok and vim.NIL or tostring(err)
save_report()
vim.lsp.stop_client(vim.lsp.get_active_clients())
vim.cmd(ok and "qa!" or "cq!")
