-- POST the LDN interest form as a NEW participant each request: unique name, email, phone and
-- submission token, a random client address (X-Forwarded-For; the app trusts one proxy), the
-- CSRF cookie and field, and a signed `form_issued` time older than the form's minimum.
-- OK only for the 302 to the thank-you page; anything else (the form again, 429, 403) is an
-- error. Env: BENCH_FORM_ISSUED, BENCH_CSRF, BENCH_ORIGIN.
local threads = {}
local issued = os.getenv("BENCH_FORM_ISSUED")
local csrf = os.getenv("BENCH_CSRF")
local origin = os.getenv("BENCH_ORIGIN")

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  bad = 0
  n = 0
  math.randomseed(os.time() * 100 + id)
  prefix = string.format("t%d%d", id, math.random(100000, 999999))
end

local letters = "abcdefghijklmnopqrstuvwxyz"
local function word(len)
  local out = {}
  for i = 1, len do
    local k = math.random(1, 26)
    out[i] = letters:sub(k, k)
  end
  return table.concat(out)
end

local function uuid4()
  return string.format("%08x-%04x-4%03x-%04x-%012x", math.random(0, 0x7fffffff),
    math.random(0, 0xffff), math.random(0, 0xfff), 0x8000 + math.random(0, 0x3fff),
    math.random(0, 0x7fffffff) * 0x10000 + math.random(0, 0xffff))
end

local fixed = table.concat({
  "preferred_contact=phone", "best_time=morning", "date_of_birth=1980-04-28",
  "zip_code=35203", "referral_source=prohealth", "note=", "contact_consent=on",
  "q_diagnosis=yes", "q_core-symptoms__pem=yes", "q_core-symptoms__sleep=yes",
  "q_core-symptoms__cognitive=yes", "q_core-symptoms__orthostatic=no", "q_can-attend=yes",
  "q_opioids=no", "q_recent-ldn=no", "q_allergy=no", "q_pregnancy=no", "q_liver=no",
  "q_autoimmune=no", "q_substance-misuse=no", "q_other-trial=no",
  "csrfmiddlewaretoken=" .. csrf, "form_issued=" .. issued,
}, "&")

function request()
  n = n + 1
  local name = word(8)
  local body = string.format(
    "%s&first_name=Bench&last_name=%s&email=%s.%d@example.org&phone=(659) %03d-%04d" ..
    "&submission_token=%s",
    fixed, name, prefix, n, math.random(200, 999), math.random(0, 9999), uuid4())
  local headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken=" .. csrf,
    ["Origin"] = origin,
    ["Referer"] = origin .. wrk.path,
    ["X-Forwarded-Proto"] = "https",
    ["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.random(0, 255),
      math.random(0, 255), math.random(1, 254)),
    ["Accept-Encoding"] = "gzip",
  }
  return wrk.format("POST", wrk.path, headers, body)
end

function response(status, headers, body)
  local location = headers["Location"] or headers["location"] or ""
  if status ~= 302 or not location:find("/thanks", 1, true) then
    bad = bad + 1
  end
end

-- The BENCH_RESULT line run.py reads (bench/report.lua, next to this script).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
done = dofile(here .. "report.lua")(threads)
