package alexatest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/datastore"
	"github.com/alexa-oos/alexa/internal/skillmsg"
	"github.com/alexa-oos/alexa/lwa"
	"github.com/alexa-oos/alexa/messaging"
	"github.com/alexa-oos/alexa/proactive"
	"github.com/alexa-oos/alexa/skill"
)

// chromium finds a Chromium or Chrome to drive: $ALEXA_OOS_CHROMIUM, or
// one on the PATH. Without one the test is skipped, as .ci/run installs
// Debian's chromium where it can.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("ALEXA_OOS_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("Chromium is not installed (apt-get install -y chromium, or set ALEXA_OOS_CHROMIUM): the console's browser test does not run")
	return ""
}

// artifacts is where the test leaves its screenshots: $ALEXA_OOS_ARTIFACTS,
// or the test's artifact directory (kept with go test -artifacts).
func artifacts(t *testing.T) string {
	if dir := os.Getenv("ALEXA_OOS_ARTIFACTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.ArtifactDir()
}

// browser starts a headless Chromium with a fresh profile, and collects
// what the page writes to its console as an error.
func browser(t *testing.T) (ctx context.Context, problems func() []string) {
	t.Helper()
	path := chromium(t)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)

	var mu sync.Mutex
	var found []string
	err := chromedp.Listen(ctx, func(ev any) {
		var p string
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				p = fmt.Sprintf("console.%s: %v", ev.Type, ev.Args)
			}
		case *runtime.EventExceptionThrown:
			p = "exception: " + ev.ExceptionDetails.Text
			if ex := ev.ExceptionDetails.Exception; ex != nil {
				p += " " + ex.Description
			}
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				p = fmt.Sprintf("%s error: %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
			}
		}
		if p != "" {
			mu.Lock()
			found = append(found, p)
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("starting Chromium at %s: %v", path, err)
	}
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), found...)
	}
}

func browse(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string, opts ...chromedp.EvaluateOption) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, opts...))
	if err != nil {
		t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

// waitFor waits until the page makes the JavaScript expression true; go
// test's -timeout bounds the wait.
func waitFor(t *testing.T, ctx context.Context, what, js string) {
	defer func() {
		if t.Failed() && debugProblems != nil {
			t.Logf("browser problems: %v", debugProblems())
		}
	}()
	t.Helper()
	// A page that never gets there fails the test within a minute, with
	// its text; a working one takes milliseconds.
	wait, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if d, ok := t.Deadline(); ok && time.Until(d) < time.Minute+20*time.Second {
		// Fail with the page's text, not a panic, when go test's -timeout nears.
		wait, cancel = context.WithDeadline(ctx, d.Add(-20*time.Second))
		defer cancel()
	}
	_, err := chromedp.Run(wait, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(0), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("waiting for %s (%s): %v\npage:\n%s", what, js, err, body)
	}
}

// pageChecks is JavaScript that lists what would make the page hard to
// use: unlabelled controls, controls out of keyboard reach, and text
// whose contrast with its background is under WCAG AA (4.5:1, 3:1 for
// large text).
const pageChecks = `(() => {
  const problems = [];
  const short = (el) => el.outerHTML.slice(0, 100);
  for (const el of document.querySelectorAll('input, select, textarea, button, a')) {
    if (el.closest('[hidden]')) continue;
    let name = el.getAttribute('aria-label') || '';
    if (el.labels) for (const l of el.labels) name += l.textContent;
    if (el.tagName === 'BUTTON' || el.tagName === 'A') name += el.textContent;
    if (!name.trim()) problems.push('no label: ' + short(el));
    if (el.tabIndex < 0 || el.disabled) problems.push('not keyboard reachable: ' + short(el));
    if (el.tagName === 'A' && !el.getAttribute('href')) problems.push('link without href: ' + short(el));
  }
  const rgb = (s) => {
    const m = /^rgba?\(([^)]+)\)$/.exec(s);
    if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return { c: p.slice(0, 3), a: p.length > 3 ? p[3] : 1 };
  };
  const lum = (c) => {
    const [r, g, b] = c.map((v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const bg = rgb(getComputedStyle(e).backgroundColor);
      if (bg === null) return null;
      if (bg.a > 0) return bg.a === 1 ? bg.c : null;
    }
    return [255, 255, 255];
  };
  const seen = new Set();
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const el = walk.currentNode.parentElement;
    if (!walk.currentNode.textContent.trim() || seen.has(el)) continue;
    seen.add(el);
    if (el.closest('[hidden]') || !el.getClientRects().length) continue;
    const cs = getComputedStyle(el);
    const fg = rgb(cs.color), bg = background(el);
    if (!fg || fg.a !== 1 || !bg) { problems.push('colour not checked: ' + cs.color + ' on ' + short(el)); continue; }
    const [hi, lo] = [lum(fg.c), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(cs.fontSize), bold = parseInt(cs.fontWeight, 10) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) problems.push('contrast ' + ratio.toFixed(2) + ' < ' + need + ': ' + JSON.stringify(walk.currentNode.textContent.trim().slice(0, 40)));
  }
  return problems;
})()`

// The console, in a real browser: events and messages sent with this
// module's clients appear without a reload, with Alexa's spoken text and
// the skill's answer; the filters, mark-read and reset work from the
// keyboard; the page fits a phone; nothing is written to the browser's
// console as an error.
func TestConsoleInBrowser(t *testing.T) {
	t.Parallel()
	ctx, problems := browser(t)
	debugProblems = problems
	// A skill that verifies the emulator's signed requests and takes
	// every message, served once the emulator exists.
	var skillHandler atomic.Value
	sk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		skillHandler.Load().(http.Handler).ServeHTTP(w, r)
	}))
	defer sk.Close()
	srv := alexatest.NewServer(alexatest.Options{SkillEndpoint: sk.URL})
	defer srv.Close()
	skillHandler.Store(&skill.Handler{
		Verifier:  skill.NewVerifier(srv.SkillVerifierOptions()),
		OnMessage: func(context.Context, *skill.MessageReceived) error { return nil },
	})
	const alice, bob = "amzn1.ask.account.ALICE-EXAMPLE", "amzn1.ask.account.BOB-EXAMPLE"
	cfg := srv.Config()
	cfg.Tokens = lwa.NewProvider(cfg)
	events, messages, store := proactive.NewClient(cfg), messaging.NewClient(cfg), datastore.NewClient(cfg)
	// Alexa sends unicast events only to users who subscribed; Bob hears
	// of trash collections.
	if err := srv.Subscribe(alice, proactive.SchemaWeatherAlert); err != nil {
		t.Fatal(err)
	}
	if err := srv.Subscribe(bob, proactive.SchemaTrashCollection); err != nil {
		t.Fatal(err)
	}

	browse(t, ctx, "loading the console", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(srv.URL+alexatest.ConsolePath))
	waitFor(t, ctx, "the live feed", `document.getElementById('conn').classList.contains('ok')`)
	loaded := eval[float64](t, ctx, `window.consoleLoadedAt = performance.timeOrigin`)

	// A weather alert to Alice in two locales, a skill message to Bob, a
	// multicast event, a DataStore object for Alice, and a call refused
	// for want of a token.
	now := time.Now()
	alert := &proactive.Request{
		Timestamp: now, ReferenceID: "storm-1", ExpiryTime: now.Add(2 * time.Hour),
		Event: proactive.NewEvent(proactive.WeatherAlertActivated{WeatherAlert: proactive.WeatherAlert{
			AlertType: proactive.AlertSnowStorm, Source: proactive.WeatherSourcePlaceholder}}),
		LocalizedAttributes: []proactive.LocalizedAttribute{{"locale": "en-US", "source": "the National Weather Service"}, {"locale": "en-GB", "source": "the Met Office"}},
		RelevantAudience:    proactive.ToUser(alice),
	}
	if _, err := events.Create(ctx, alert, proactive.Development); err != nil {
		t.Fatal(err)
	}
	spoken, err := proactive.Preview(alert)
	if err != nil || len(spoken) != 2 {
		t.Fatalf("preview %v, %v", spoken, err)
	}
	if _, err := messages.Send(ctx, bob, &messaging.Message{Data: map[string]any{"reminder": "water the plants"}, ExpiresAfterSeconds: 600}); err != nil {
		t.Fatal(err)
	}
	trash := &proactive.Request{
		Timestamp: now, ReferenceID: "trash-1", ExpiryTime: now.Add(20 * time.Minute),
		Event: proactive.NewEvent(proactive.TrashCollectionAlertActivated{Alert: proactive.TrashCollectionAlert{
			CollectionDayOfWeek: proactive.Tuesday, GarbageTypes: []proactive.GarbageType{proactive.GarbageRecyclablePlastics, proactive.GarbageWastePaper}}}),
		LocalizedAttributes: []proactive.LocalizedAttribute{{"locale": "en-US"}},
		RelevantAudience:    proactive.ToAllSubscribers(),
	}
	if _, err := events.Create(ctx, trash, proactive.Live); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Commands(ctx, datastore.User(alice), []datastore.Command{datastore.PutObject("weather", "alert", map[string]any{"type": "SNOW_STORM", "until": "18:00"})}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(srv.URL+skillmsg.Path(bob), "application/json", strings.NewReader(`{"data":{"no":"token"}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	aliceCard := `document.querySelector('article[data-user="` + alice + `"]')`
	bobCard := `document.querySelector('article[data-user="` + bob + `"]')`
	for _, s := range spoken {
		waitFor(t, ctx, "Alice's alert, spoken for "+s.Locale, aliceCard+`?.innerText.includes(`+jsString(s.Text)+`)`)
	}
	waitFor(t, ctx, "Alice's light ring", aliceCard+`?.querySelector('.ring.lit') != null`)
	waitFor(t, ctx, "Bob's skill message", bobCard+`?.querySelector('.msg pre')?.textContent.includes('"reminder":"water the plants"')`)
	waitFor(t, ctx, "the skill's answer to Bob's message", bobCard+`?.querySelector('.msg')?.innerText.includes('skill answered')`)
	waitFor(t, ctx, "the multicast alert", `document.getElementById('multicast').innerText.includes('AMAZON.TrashCollectionAlert.Activated')`)
	waitFor(t, ctx, "Alice's DataStore object", aliceCard+`?.innerText.includes('"type":"SNOW_STORM"')`)
	waitFor(t, ctx, "the refused call", `[...document.querySelectorAll('#traffic tr.refused')].some((tr) => tr.innerText.includes('401') && tr.innerText.includes('UNAUTHORIZED'))`)
	waitFor(t, ctx, "the tokens issued", `document.querySelectorAll('#tokens tbody tr').length >= 3`)
	if got := eval[float64](t, ctx, `window.consoleLoadedAt`); got != loaded {
		t.Fatalf("the page was reloaded (%v, then %v): updates must arrive live", loaded, got)
	}
	html := eval[string](t, ctx, `document.documentElement.outerHTML`)
	for _, secret := range []string{"Atza|", alexatest.DefaultClientSecret, srv.Credentials().RefreshToken} {
		if strings.Contains(html, secret) {
			t.Errorf("the console shows %q", secret)
		}
	}
	// Each refusal links to its request body.
	body := eval[string](t, ctx, `fetch(document.querySelector('#traffic tr.refused a').href).then((r) => r.text())`, chromedp.EvalAwaitPromise)
	if !strings.Contains(body, `"no": "token"`) {
		t.Errorf("the refused call's body link answers %q", body)
	}

	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	dir := artifacts(t)
	if err := os.WriteFile(filepath.Join(dir, "console.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("ALEXA_OOS_UPDATE_SCREENSHOT") == "1" {
		// The README's picture of the console.
		docs := filepath.Join("..", "docs")
		if err := os.MkdirAll(docs, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(docs, "console.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshot: %s", filepath.Join(dir, "console.png"))

	if p := eval[[]string](t, ctx, pageChecks); len(p) > 0 {
		t.Errorf("the console is hard to use:\n%s", strings.Join(p, "\n"))
	}

	// The keyboard reaches the filters and the controls, in order.
	browse(t, ctx, "focusing the page", chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`))
	var reached []string
	for range 8 {
		browse(t, ctx, "pressing Tab", chromedp.KeyEvent(kb.Tab))
		reached = append(reached, eval[string](t, ctx, `document.activeElement.id || document.activeElement.tagName`))
	}
	if got := strings.Join(reached, " "); !strings.Contains(got, "f-user f-name f-status reset") {
		t.Errorf("Tab reaches %s; want the user, event name and status filters, then reset", got)
	}

	// Mark Alice's notifications read, with the keyboard: her ring goes off.
	browse(t, ctx, "marking read", chromedp.Focus(chromedp.CSS(`article[data-user="`+alice+`"] .unread-line button`)), chromedp.KeyEvent(kb.Enter))
	waitFor(t, ctx, "Alice's ring off", aliceCard+`?.querySelector('.ring') && !`+aliceCard+`.querySelector('.ring.lit')`)

	// Filter to Bob: only his card and his calls remain, and the filter
	// is in the address.
	browse(t, ctx, "filtering to Bob", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('f-user'); s.value = `+jsString(bob)+`; s.dispatchEvent(new Event('change')); })()`))
	waitFor(t, ctx, "only Bob's card", `(() => { const cards = document.querySelectorAll('#users article'); return cards.length === 1 && cards[0].dataset.user === `+jsString(bob)+`; })()`)
	waitFor(t, ctx, "only Bob's calls", `(() => { const rows = [...document.querySelectorAll('#traffic tbody tr')]; return rows.length === 2 && rows.every((tr) => tr.innerText.includes(`+jsString(bob)+`)); })()`)
	if loc := eval[string](t, ctx, `location.search`); !strings.Contains(loc, "user=amzn1.ask.account.BOB-EXAMPLE") {
		t.Errorf("the address %q does not hold the filter", loc)
	}
	browse(t, ctx, "clearing the filter", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('f-user'); s.value = ''; s.dispatchEvent(new Event('change')); })()`))
	waitFor(t, ctx, "every card again", `document.querySelectorAll('#users article').length === 2`)

	// Reset, with the keyboard and its confirmation: everything is gone.
	browse(t, ctx, "asking to reset", chromedp.Focus(chromedp.ID("reset")), chromedp.KeyEvent(kb.Enter))
	waitFor(t, ctx, "the confirmation, focused", `document.activeElement.id === 'reset-yes'`)
	browse(t, ctx, "confirming the reset", chromedp.KeyEvent(kb.Enter))
	waitFor(t, ctx, "an empty console", `document.querySelectorAll('#users article').length === 0 && document.querySelectorAll('#traffic tbody tr, #tokens tbody tr').length === 0`)
	if n := len(srv.Events()) + len(srv.Messages()) + len(srv.TokenRequests()); n != 0 {
		t.Errorf("after the console's reset the emulator still holds %d records", n)
	}

	// At a phone's width the page does not scroll sideways, full of
	// long userIds as it is.
	browse(t, ctx, "a phone's viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(3)))
	if err := srv.Subscribe(alice, proactive.SchemaWeatherAlert); err != nil { // the reset forgot it
		t.Fatal(err)
	}
	if _, err := events.Create(ctx, &proactive.Request{Timestamp: time.Now(), ReferenceID: "storm-2", ExpiryTime: time.Now().Add(time.Hour),
		Event: alert.Event, LocalizedAttributes: alert.LocalizedAttributes, RelevantAudience: proactive.ToUser(alice)}, proactive.Development); err != nil {
		t.Fatal(err)
	}
	if _, err := messages.Send(ctx, bob, &messaging.Message{Data: map[string]any{"reminder": strings.Repeat("a-long-unbroken-value-", 12)}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "both cards on the phone", `document.querySelectorAll('#users article').length === 2 && document.querySelectorAll('#traffic tbody tr').length >= 2`)
	if w := eval[[]float64](t, ctx, `[document.documentElement.scrollWidth, window.innerWidth]`); w[0] > w[1] {
		t.Errorf("at a phone's width the page is %v px wide in a %v px window", w[0], w[1])
	}
	if p := eval[[]string](t, ctx, pageChecks); len(p) > 0 {
		t.Errorf("on a phone the console is hard to use:\n%s", strings.Join(p, "\n"))
	}
	phone, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "console-phone.png"), phone, 0o644); err != nil {
		t.Fatal(err)
	}

	// Round-trip once more so that late console messages have arrived.
	eval[chromedp.Void](t, ctx, `0`)
	if p := problems(); len(p) > 0 {
		t.Errorf("the browser's console shows errors:\n%s", strings.Join(p, "\n"))
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return fmt.Sprintf("%q", s)
}

// debugProblems reports what the browser of the running test logged as
// errors, printed when a wait fails (TestConsoleInBrowser is the only
// browser test).
var debugProblems func() []string
