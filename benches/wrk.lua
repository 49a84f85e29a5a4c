-- wrk script for benches/http_create.sh: POSTs a ticket when OPSDESK_TOKEN is set, and prints
-- one machine-readable RESULT line at the end either way.
local token = os.getenv("OPSDESK_TOKEN")
if token then
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.body = '{"title":"委托下单提示资金不足","description":"客户 310012345678 今天 10:05 在 APP 买入 600519 提示“可用资金不足”，实际可用资金 5 万元，已重新登录仍然失败","system":"trading","customer":{"name":"张三","account":"310012345678","phone":"13812341234"}}'
end

done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format("RESULT requests=%d rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f errors=%d\n",
    summary.requests, summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, e.connect + e.read + e.write + e.status + e.timeout))
end
