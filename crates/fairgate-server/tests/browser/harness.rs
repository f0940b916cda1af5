//! The browser under test: Debian's chromium, headless, driven over WebDriver by
//! chromedriver (both installed by `.ci/run`), through fantoccini. Started per
//! test on a free loopback port, with an empty profile and none of Chromium's
//! background connections (this machine has no network). Every page a journey
//! reaches is checked with axe-core (vendored under tests/fixtures/axe) for WCAG
//! 2.0/2.1 A and AA, and saved as a screenshot under `target/browser/`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// axe-core's browser build, vendored with its licences.
const AXE: &str = include_str!("../fixtures/axe/axe.min.js");

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    /// Where this journey's screenshots go: target/browser/JOURNEY/.
    shots: PathBuf,
    /// Pages checked so far (a number for the screenshots' order).
    checked: usize,
    pub base: String,
}

fn find(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    names.iter().find_map(|n| {
        std::env::split_paths(&path).map(|d| d.join(n)).find(|p| p.is_file()).or_else(|| {
            let p = Path::new("/usr/bin").join(n);
            p.is_file().then_some(p)
        })
    })
}

impl Browser {
    /// A fresh headless browser on `base`, or `None` (the test is skipped, and says
    /// so) when chromium or chromedriver is missing, unless FAIRGATE_REQUIRE_BROWSER
    /// is set, as `.ci/run` sets it: then their absence fails the test.
    pub async fn start(base: &str, journey: &str) -> Option<Browser> {
        let required = std::env::var_os("FAIRGATE_REQUIRE_BROWSER").is_some();
        let (Some(driver), Some(chromium)) = (find(&["chromedriver"]), find(&["chromium", "chromium-browser"])) else {
            assert!(!required, "FAIRGATE_REQUIRE_BROWSER is set but chromium or chromedriver is not installed");
            eprintln!(
                "skipped: chromium and chromedriver are not installed (apt-get install -y chromium chromium-driver)"
            );
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-extensions",
                    "--window-size=1280,1024",
                    // A fake camera that needs no permission prompt: the desk's
                    // camera enhancement can be exercised.
                    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let caps = caps.as_object().unwrap().clone();
        let url = format!("http://127.0.0.1:{port}");
        let mut last = None;
        // chromedriver takes a moment to listen.
        for _ in 0..100 {
            match ClientBuilder::rustls().unwrap().capabilities(caps.clone()).connect(&url).await {
                Ok(client) => {
                    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/browser").join(journey);
                    let _ = std::fs::remove_dir_all(&shots);
                    std::fs::create_dir_all(&shots).unwrap();
                    return Some(Browser {
                        client,
                        driver: child,
                        _profile: profile,
                        shots,
                        checked: 0,
                        base: base.to_string(),
                    });
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not start a session: {last:?}");
    }

    pub async fn goto(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    pub async fn path(&self) -> String {
        let u = self.client.current_url().await.unwrap();
        match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        }
    }

    pub async fn css(&self, selector: &str) -> fantoccini::elements::Element {
        self.client.find(Locator::Css(selector)).await.unwrap_or_else(|e| panic!("{selector}: {e}"))
    }

    /// Type into the field with this id.
    pub async fn fill(&self, id: &str, text: &str) {
        let e = self.css(&format!("#{id}")).await;
        e.clear().await.unwrap();
        e.send_keys(text).await.unwrap();
    }

    pub async fn select(&self, id: &str, value: &str) {
        self.css(&format!("#{id}")).await.select_by_value(value).await.unwrap();
    }

    pub async fn click(&self, selector: &str) {
        self.css(selector).await.click().await.unwrap();
    }

    async fn by_text(&self, text: &str) -> fantoccini::elements::Element {
        let x = format!("//a[normalize-space()='{text}'] | //button[normalize-space()='{text}']");
        self.client.find(Locator::XPath(&x)).await.unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    /// Click the link or button whose text is exactly `text`, and wait for the page
    /// it leads to (a new document, loaded).
    pub async fn click_text(&self, text: &str) {
        self.client.execute("window.__fairgate_old_page = true;", vec![]).await.unwrap();
        self.by_text(text).await.click().await.unwrap();
        self.new_page().await;
    }

    /// Click a button that stays on the page (the camera's, say).
    pub async fn press_text(&self, text: &str) {
        self.by_text(text).await.click().await.unwrap();
    }

    /// Wait until the document is a new one (the old was marked) and loaded.
    async fn new_page(&self) {
        for _ in 0..200 {
            let v = self
                .client
                .execute("return window.__fairgate_old_page !== true && document.readyState === 'complete';", vec![])
                .await;
            if v.ok() == Some(json!(true)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no new page within 10 s");
    }

    /// The text of the page's main content.
    pub async fn main_text(&self) -> String {
        self.css("main").await.text().await.unwrap()
    }

    /// Check the page as it stands: axe-core finds no WCAG 2.0/2.1 A or AA
    /// violation, and a screenshot is saved. Returns the main text.
    pub async fn check(&mut self, name: &str) -> String {
        self.checked += 1;
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{:02}-{name}.png", self.checked)), png).unwrap();
        self.client.execute(AXE, vec![]).await.unwrap();
        let script = "const done = arguments[arguments.length - 1];
            axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
              .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
                                                      nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary) }))))
              .catch(e => done([{ id: 'axe-error', help: String(e), nodes: [] }]));";
        let violations = self.client.execute_async(script, vec![]).await.unwrap();
        let path = self.path().await;
        assert_eq!(
            violations,
            Value::Array(vec![]),
            "{name} ({path}): axe-core found WCAG 2.1 AA violations:\n{violations:#}"
        );
        self.main_text().await
    }

    /// The page as a PDF, as the browser prints it, saved beside the screenshots.
    pub async fn print(&self, name: &str) -> Vec<u8> {
        let pdf = self.client.print(fantoccini::wd::PrintConfiguration::builder().build().unwrap()).await.unwrap();
        std::fs::write(self.shots.join(format!("{name}.pdf")), &pdf).unwrap();
        pdf
    }

    /// Press Tab until the focused element matches `selector` (at most 80 times):
    /// proof that it is reachable from the keyboard, in order.
    pub async fn tab_to(&self, selector: &str) {
        use fantoccini::key::Key;
        for _ in 0..80 {
            let hit = self
                .client
                .execute(
                    "return document.activeElement && document.activeElement.matches(arguments[0]);",
                    vec![json!(selector)],
                )
                .await
                .unwrap();
            if hit == json!(true) {
                return;
            }
            self.keys(&char::from(Key::Tab).to_string()).await;
        }
        panic!("{selector} is not reachable with the Tab key");
    }

    /// Type at whatever has the focus, key by key, as a keyboard does (WebDriver
    /// actions, not an element's send-keys, which a file field takes as a path).
    pub async fn keys(&self, text: &str) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let mut seq = KeyActions::new("keyboard".into());
        for c in text.chars() {
            seq = seq.then(KeyAction::Down { value: c }).then(KeyAction::Up { value: c });
        }
        self.client.perform_actions(seq).await.unwrap();
        self.client.release_actions().await.unwrap();
    }

    /// Press Enter at the focused element and wait for the next page.
    pub async fn enter(&self) {
        use fantoccini::key::Key;
        self.client.execute("window.__fairgate_old_page = true;", vec![]).await.unwrap();
        self.keys(&char::from(Key::Enter).to_string()).await;
        self.new_page().await;
    }

    pub async fn stop(mut self) {
        let _ = self.client.close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
