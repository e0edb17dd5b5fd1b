//! The WebDAV/CalDAV XML of the client: the request bodies (PROPFIND, calendar-query
//! REPORT) and a reader of `207 Multi-Status` answers.

use chrono::{DateTime, Utc};

pub const DAV: &str = "DAV:";
pub const CALDAV: &str = "urn:ietf:params:xml:ns:caldav";

pub const PROPFIND_PRINCIPAL: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:current-user-principal/></D:prop></D:propfind>"#;

pub const PROPFIND_HOME: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-home-set/><D:resourcetype/></D:prop></D:propfind>"#;

pub const PROPFIND_CALENDARS: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:resourcetype/><D:displayname/><C:supported-calendar-component-set/></D:prop></D:propfind>"#;

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A `calendar-query` for the VEVENTs overlapping `[from, to)`, asking for their data
/// expanded to instances within the window.
pub fn calendar_query(from: DateTime<Utc>, to: DateTime<Utc>, expand: bool) -> String {
    let (s, e) = (stamp(from), stamp(to));
    let data = if expand {
        format!(r#"<C:calendar-data><C:expand start="{s}" end="{e}"/></C:calendar-data>"#)
    } else {
        "<C:calendar-data/>".to_string()
    };
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/>{data}</D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="{s}" end="{e}"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"#
    )
}

/// What one `<D:response>` says, from its propstats with a 2xx status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DavResponse {
    pub href: String,
    /// The response-level status (a resource that is gone), when given.
    pub status: Option<u16>,
    pub principal: Option<String>,
    pub home: Option<String>,
    pub is_calendar: bool,
    pub display_name: Option<String>,
    /// `supported-calendar-component-set`, when present.
    pub components: Option<Vec<String>>,
    pub etag: Option<String>,
    pub calendar_data: Option<String>,
}

/// The code in a `HTTP/1.1 200 OK` status line.
fn status_code(s: &str) -> Option<u16> {
    s.split_whitespace().nth(1).and_then(|c| c.parse().ok())
}

fn is(node: &roxmltree::Node, ns: &str, name: &str) -> bool {
    node.is_element() && node.tag_name().name() == name && node.tag_name().namespace() == Some(ns)
}

fn child<'a, 'i>(
    node: &roxmltree::Node<'a, 'i>,
    ns: &str,
    name: &str,
) -> Option<roxmltree::Node<'a, 'i>> {
    node.children().find(|c| is(c, ns, name))
}

fn text_of(node: &roxmltree::Node) -> String {
    node.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect::<String>()
}

/// Reads a `207 Multi-Status` body.
pub fn parse_multistatus(body: &str) -> Result<Vec<DavResponse>, String> {
    let doc = roxmltree::Document::parse(body).map_err(|e| format!("XML: {e}"))?;
    let root = doc.root_element();
    if !is(&root, DAV, "multistatus") {
        return Err(format!(
            "expected DAV:multistatus, got {}",
            root.tag_name().name()
        ));
    }
    let mut out = Vec::new();
    for resp in root.children().filter(|n| is(n, DAV, "response")) {
        let href = child(&resp, DAV, "href")
            .map(|h| text_of(&h).trim().to_string())
            .ok_or("a response without href")?;
        let mut r = DavResponse {
            href,
            status: child(&resp, DAV, "status").and_then(|s| status_code(&text_of(&s))),
            ..DavResponse::default()
        };
        for ps in resp.children().filter(|n| is(n, DAV, "propstat")) {
            let ok = child(&ps, DAV, "status")
                .and_then(|s| status_code(&text_of(&s)))
                .is_some_and(|c| (200..300).contains(&c));
            if !ok {
                continue;
            }
            let Some(prop) = child(&ps, DAV, "prop") else {
                continue;
            };
            for p in prop.children().filter(roxmltree::Node::is_element) {
                let inner_href = || {
                    child(&p, DAV, "href")
                        .map(|h| text_of(&h).trim().to_string())
                        .filter(|h| !h.is_empty())
                };
                if is(&p, DAV, "current-user-principal") {
                    r.principal = inner_href();
                } else if is(&p, CALDAV, "calendar-home-set") {
                    r.home = inner_href();
                } else if is(&p, DAV, "resourcetype") {
                    r.is_calendar = child(&p, CALDAV, "calendar").is_some();
                } else if is(&p, DAV, "displayname") {
                    let t = text_of(&p).trim().to_string();
                    r.display_name = (!t.is_empty()).then_some(t);
                } else if is(&p, CALDAV, "supported-calendar-component-set") {
                    r.components = Some(
                        p.children()
                            .filter(|c| is(c, CALDAV, "comp"))
                            .filter_map(|c| c.attribute("name").map(str::to_ascii_uppercase))
                            .collect(),
                    );
                } else if is(&p, DAV, "getetag") {
                    let t = text_of(&p).trim().to_string();
                    r.etag = (!t.is_empty()).then_some(t);
                } else if is(&p, CALDAV, "calendar-data") {
                    r.calendar_data = Some(text_of(&p));
                }
            }
        }
        out.push(r);
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_propstats_by_status_and_namespace() {
        let body = r#"<?xml version="1.0"?>
<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:X="urn:other">
 <response><href>/cal/home/work/</href>
  <propstat><prop><resourcetype><collection/><C:calendar/></resourcetype><displayname>Work</displayname>
   <C:supported-calendar-component-set><C:comp name="VEVENT"/><C:comp name="vtodo"/></C:supported-calendar-component-set>
  </prop><status>HTTP/1.1 200 OK</status></propstat>
  <propstat><prop><X:calendar/></prop><status>HTTP/1.1 404 Not Found</status></propstat>
 </response>
 <response><href>/cal/home/a.ics</href>
  <propstat><prop><getetag>"e1"</getetag><C:calendar-data>BEGIN:VCALENDAR&#13;
END:VCALENDAR&#13;
</C:calendar-data></prop><status>HTTP/1.1 200 OK</status></propstat></response>
 <response><href>/gone</href><status>HTTP/1.1 404 Not Found</status></response>
</multistatus>"#;
        let r = parse_multistatus(body).unwrap();
        assert_eq!(r.len(), 3);
        assert!(r[0].is_calendar);
        assert_eq!(r[0].display_name.as_deref(), Some("Work"));
        assert_eq!(
            r[0].components,
            Some(vec!["VEVENT".to_string(), "VTODO".to_string()])
        );
        assert_eq!(r[1].etag.as_deref(), Some("\"e1\""));
        assert_eq!(
            r[1].calendar_data.as_deref(),
            Some("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
        );
        assert_eq!(r[2].status, Some(404));
        assert!(parse_multistatus("<html>nope</html>").is_err());
        assert!(parse_multistatus("not xml").is_err());
    }
}
