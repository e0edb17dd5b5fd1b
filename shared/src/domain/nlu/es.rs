//! Spanish: the patterns and parsers behind the public functions of [`super`].
//!
//! Everything here reads text prepared by [`prep`]: the shared normalization, then the
//! opening marks `¿ ¡` dropped and the diacritics folded (`á→a`, `ü→u`, `ñ→n`), so
//! "mañana", "manana" and "MAÑANA" read alike. Each function answers only when it finds
//! Spanish words, so calling it on English text changes nothing.

use std::sync::LazyLock;

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Weekday};
use regex::Regex;

use super::{
    clock_time, next_weekday, normalize, re, upcoming_day_of_month, with_year, ClientName,
    DayPeriod, FollowupAsk, Intent, TimeSpec, TimeZone,
};

// ---------------------------------------------------------------------------------------
// Preparation
// ---------------------------------------------------------------------------------------

/// One character for one character: the letter without its accent (`ñ` → `n`).
fn fold_char(c: char) -> char {
    match c {
        'á' | 'à' | 'ä' | 'â' => 'a',
        'é' | 'è' | 'ë' | 'ê' => 'e',
        'í' | 'ì' | 'ï' | 'î' => 'i',
        'ó' | 'ò' | 'ö' | 'ô' => 'o',
        'ú' | 'ù' | 'ü' | 'û' => 'u',
        'ñ' => 'n',
        'Á' | 'À' | 'Ä' | 'Â' => 'A',
        'É' | 'È' | 'Ë' | 'Ê' => 'E',
        'Í' | 'Ì' | 'Ï' | 'Î' => 'I',
        'Ó' | 'Ò' | 'Ö' | 'Ô' => 'O',
        'Ú' | 'Ù' | 'Ü' | 'Û' => 'U',
        'Ñ' => 'N',
        other => other,
    }
}

/// The text with its diacritics folded, character for character (same character count).
pub(super) fn fold(text: &str) -> String {
    text.chars().map(fold_char).collect()
}

/// The normalized text without `¿ ¡`, accents kept (character positions match [`prep`]).
fn accented(text: &str) -> String {
    let t = normalize(text).replace(['¿', '¡'], " ");
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Normalized, `¿ ¡` dropped, diacritics folded: what every Spanish pattern reads.
pub(super) fn prep(text: &str) -> String {
    fold(&accented(text))
}

const UNITS: &[(&str, u32)] = &[
    ("cero", 0),
    ("un", 1),
    ("uno", 1),
    ("una", 1),
    ("dos", 2),
    ("tres", 3),
    ("cuatro", 4),
    ("cinco", 5),
    ("seis", 6),
    ("siete", 7),
    ("ocho", 8),
    ("nueve", 9),
    ("diez", 10),
    ("once", 11),
    ("doce", 12),
    ("trece", 13),
    ("catorce", 14),
    ("quince", 15),
    ("dieciseis", 16),
    ("diecisiete", 17),
    ("dieciocho", 18),
    ("diecinueve", 19),
    ("veinte", 20),
    ("veintiun", 21),
    ("veintiuno", 21),
    ("veintiuna", 21),
    ("veintidos", 22),
    ("veintitres", 23),
    ("veinticuatro", 24),
    ("veinticinco", 25),
    ("veintiseis", 26),
    ("veintisiete", 27),
    ("veintiocho", 28),
    ("veintinueve", 29),
];
const TENS: &[(&str, u32)] = &[("treinta", 30), ("cuarenta", 40), ("cincuenta", 50)];

fn unit(w: &str) -> Option<u32> {
    UNITS.iter().find(|(n, _)| *n == w).map(|(_, v)| *v)
}

/// Number words as digits on prepared text: "tres y media" → "3 y media", "treinta y uno"
/// → "31", "a la una" → "a la 1".
fn digits(t: &str) -> String {
    let ws: Vec<&str> = t.split(' ').collect();
    let mut out: Vec<String> = Vec::with_capacity(ws.len());
    let mut i = 0;
    while i < ws.len() {
        let (core, tail) = super::split_trailing_punct(ws[i]);
        if let Some(&(_, tens)) = TENS.iter().find(|(n, _)| *n == core) {
            let next_unit = (ws.get(i + 1) == Some(&"y"))
                .then(|| ws.get(i + 2))
                .flatten()
                .map(|w| super::split_trailing_punct(w))
                .and_then(|(c, p)| unit(c).filter(|u| (1..10).contains(u)).map(|u| (u, p)));
            if let Some((u, p)) = next_unit {
                out.push(format!("{}{p}", tens + u));
                i += 3;
                continue;
            }
            out.push(format!("{tens}{tail}"));
        } else if let Some(v) = unit(core) {
            out.push(format!("{v}{tail}"));
        } else {
            out.push(ws[i].to_string());
        }
        i += 1;
    }
    out.join(" ")
}

macro_rules! es_re {
    ($name:ident, $pat:expr) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| re($pat));
    };
}

// ---------------------------------------------------------------------------------------
// Language
// ---------------------------------------------------------------------------------------

/// Spanish words worth two points (content words no English sentence uses) and one point
/// (function words).
const ES_STRONG: &[&str] = &[
    "hola",
    "gracias",
    "quiero",
    "quisiera",
    "necesito",
    "cita",
    "citas",
    "turno",
    "reservar",
    "agendar",
    "cancelar",
    "cambiar",
    "manana",
    "hoy",
    "buenos",
    "buenas",
    "dias",
    "tardes",
    "noches",
    "favor",
    "puedo",
    "puede",
    "pueden",
    "tiene",
    "tienen",
    "tengo",
    "cuando",
    "donde",
    "semana",
    "hora",
    "horario",
    "lunes",
    "martes",
    "miercoles",
    "jueves",
    "viernes",
    "sabado",
    "domingo",
    "claro",
    "vale",
    "adios",
    "ayuda",
    "nombre",
    "llamo",
    "correo",
    "arroba",
    "disponible",
    "quiere",
    "gustaria",
    "estoy",
    "esta",
    "tambien",
    "ahora",
    "despues",
    "tarde",
    "noche",
    "cuanto",
    "cuesta",
    "servicios",
    "espera",
    "mensaje",
    "llamen",
    "pasado",
];
const ES_WEAK: &[&str] = &[
    "el", "la", "los", "las", "de", "del", "que", "por", "para", "una", "un", "es", "mi", "y",
    "con", "en", "al", "lo", "le", "se", "su", "pero", "muy", "si", "como", "hay", "yo",
];
const EN_STRONG: &[&str] = &[
    "the",
    "hello",
    "thanks",
    "thank",
    "please",
    "want",
    "need",
    "would",
    "could",
    "like",
    "appointment",
    "book",
    "booking",
    "tomorrow",
    "today",
    "what",
    "when",
    "is",
    "are",
    "my",
    "you",
    "your",
    "i'm",
    "i'd",
    "can",
    "have",
    "available",
    "schedule",
    "cancel",
    "reschedule",
    "morning",
    "afternoon",
    "evening",
    "week",
    "next",
    "yes",
    "bye",
    "name",
    "email",
    "help",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];
const EN_WEAK: &[&str] = &[
    "i", "to", "at", "on", "of", "it", "this", "that", "with", "for", "and", "hi", "hey", "do",
    "an", "in", "me", "be", "there",
];

/// Points for Spanish and for English in the text: words from the lists above, and for
/// Spanish the marks `¿ ¡ ñ` and accented vowels.
fn scores(text: &str) -> (u32, u32) {
    let mut es = 0;
    let mut en = 0;
    if text.contains(['¿', '¡']) {
        es += 3;
    }
    if text.to_lowercase().contains('ñ') {
        es += 2;
    }
    if text
        .chars()
        .any(|c| matches!(c, 'á' | 'é' | 'í' | 'ó' | 'ú' | 'Á' | 'É' | 'Í' | 'Ó' | 'Ú'))
    {
        es += 1;
    }
    let p = prep(text);
    for w in p.split(|c: char| !c.is_alphanumeric() && c != '\'') {
        if ES_STRONG.contains(&w) {
            es += 2;
        } else if ES_WEAK.contains(&w) {
            es += 1;
        }
        if EN_STRONG.contains(&w) {
            en += 2;
        } else if EN_WEAK.contains(&w) {
            en += 1;
        }
    }
    (es, en)
}

/// Reads like a bare name ("María de la Cruz", "Ana López"): a few capitalized words and
/// name particles, nothing else.
fn looks_like_a_name(text: &str) -> bool {
    let ws: Vec<&str> = text
        .split_whitespace()
        .map(|w| w.trim_end_matches(['.', ',', '!']))
        .collect();
    let known = |w: &str| {
        let f = fold(&w.to_lowercase());
        ES_STRONG.contains(&f.as_str()) || EN_STRONG.contains(&f.as_str()) || f == "si"
    };
    !ws.is_empty()
        && ws.len() <= 5
        && !ws.iter().any(|w| known(w))
        && !text.contains(['¿', '¡', '?', '@'])
        && ws
            .iter()
            .any(|w| w.chars().next().is_some_and(char::is_uppercase))
        && ws.iter().all(|w| {
            w.chars().next().is_some_and(char::is_uppercase)
                && w.chars()
                    .all(|c| c.is_alphabetic() || c == '-' || c == '\'')
                || matches!(*w, "de" | "del" | "la" | "las" | "los" | "y")
        })
}

pub(super) fn detect_language(text: &str) -> Option<crate::domain::Locale> {
    use crate::domain::Locale;
    if looks_like_a_name(text) {
        return None;
    }
    let (es, en) = scores(text);
    if es >= 2 && es >= 2 * en {
        Some(Locale::Es)
    } else if en >= 2 && en >= 2 * es {
        Some(Locale::En)
    } else {
        None
    }
}

/// More Spanish than English in the text, however little ("el 3/4" does, "12/15" does
/// not). Decides the day/month order of numeric dates.
pub(super) fn leans_spanish(text: &str) -> bool {
    let (es, en) = scores(text);
    es > en
}

// ---------------------------------------------------------------------------------------
// Intent
// ---------------------------------------------------------------------------------------

es_re!(
    HANDOFF_RE,
    r"\b(?:mand|envi|pas|escrib)\w*me (?:(?:un|una|el|la|los) )?(?:mensaje|mensajito|texto|sms|enlace|link|liga)\b|\bme (?:(?:puede[ns]?|podria[ns]?|puedes|podrias) )?(?:mand|envi|pas)\w* (?:(?:un|una|el|la) )?(?:mensaje|texto|sms|enlace|link|liga)\b|\b(?:seguir|continuar|sigamos|continuemos|seguimos|pasemos|pasar|cambiar)(?:nos)? (?:por|en|a|al) (?:mensaje|mensajes|texto|sms|chat|whatsapp|el chat)\b|\bpor (?:mensaje de texto|sms)\b"
);
es_re!(
    RESCHEDULE_RE,
    r"\b(?:reprogram|reagend|pospon|pospus|aplaz|posterg)\w*|\b(?:cambi|mov|muev|corr|adelant|atras)\w* (?:(?:mi|la|el|de|nuestra|esa|esta|su) )?(?:cita|turno|reserva|reservacion|hora|fecha|dia|horario)\b|\bpas(?:ar|e|a|en)(?: (?:mi|la|el))? (?:cita|turno|reserva)\b|\b(?:cambi|mov|muev)\w*(?:la|lo)\b|\bpas(?:ar|e|a|en)(?:la|lo)\b|\b(?:otro|otra) (?:dia|hora|horario|fecha|momento)\b|\b(?:la|lo) (?:(?:puede[ns]?|podria[ns]?|puedes|podrias|quiero|quisiera|necesito) )?(?:cambiar|mover|pasar|reprogramar)\b"
);
es_re!(
    CANCEL_RE,
    r"\banul\w*|\bdesagend\w*|\b(?:ya no|no) (?:voy a )?(?:poder|puedo|podre|podemos) (?:ir|asistir|llegar|venir)\b|\bdar de baja (?:mi|la) (?:cita|reserva|turno)\b"
);
es_re!(
    LOOKUP_RE,
    r"\b(?:consult\w*|ver|verific\w*|revis\w*|busc\w*|chec\w*|confirm\w*|saber de) (?:(?:mi|la|el|mis|las|sobre mi) )?(?:cita|citas|turno|reserva|reservacion)\b|\b(?:cuando|a que hora|que dia) (?:es|era|tengo|sera) (?:mi|la) (?:cita|turno|reserva)\b|\bcuando (?:tengo|me toca) (?:la |mi )?(?:cita|turno)\b|\b(?:ya )?tengo (?:una|mi) (?:cita|turno|reserva)\b|\bya tengo\b|\b(?:detalles|datos|estado) de (?:mi|la) (?:cita|reserva|turno)\b"
);
es_re!(
    WAITLIST_RE,
    r"\blista de espera\b|\bavis\w*(?:me|nos)\b|\bme (?:avis|notifi)\w*|\bsi se (?:libera|abre|desocupa|cancela)\b|\bcuando (?:se )?(?:libere|abra|desocupe)\b|\b(?:anot|apunt|pon|pong)\w* en (?:la|una) lista\b"
);
es_re!(
    BOOK_RE,
    r"\b(?:reserv\w*|agend\w*|citas?|turnos?|disponib\w*|horarios?|huecos?|cupos?|pedir hora|sacar hora|hay hora|apartar (?:una )?(?:cita|hora|lugar)|consulta\w*|hacer una cita|atender(?:me)?|me atiend\w*|espacio libre|algo libre)\b"
);
es_re!(
    HELP_RE,
    r"\b(?:ayuda|ayudame|ayudeme|ayudenme|que (?:puede|puedes|pueden|sabe|sabes) hacer|como funciona|opciones|humano|una persona|persona real|alguien real|recepcion\w*|operador\w*|hablar con (?:alguien|una persona|un humano|un agente|el encargado|la encargada)|agente)\b"
);
es_re!(
    GOODBYE_RE,
    r"\b(?:adios|chao|chau|hasta luego|hasta pronto|hasta la proxima|nos vemos|eso es todo|es todo|seria todo|nada mas|no gracias|ya termine|que tenga (?:un )?buen \w+|que le vaya bien)\b|^(?:(?:ok|vale|bueno|perfecto|listo),? )?(?:muchas |mil )?gracias(?: por (?:todo|su ayuda|tu ayuda))?[.! ]*$"
);
es_re!(
    LEAVE_WAITLIST_RE,
    r"\b(?:sal\w*|sa[cq]\w*|quit\w*|borr\w*|elimin\w*|retir\w*|baja|cancel\w*|anul\w*)\b(?: \S+){0,3}? lista de espera\b|\b(?:ya no|no) (?:quiero|necesito|deseo)(?: (?:estar|seguir))?(?: en)?(?: la| mi)? lista de espera\b"
);

/// Whether the prepared text `f` says `intent` in Spanish. "gracias" alone is a goodbye;
/// "cancelar" is already read by the English pattern (`cancel…`).
pub(super) fn intent(f: &str, intent: Intent) -> bool {
    let r: &LazyLock<Regex> = match intent {
        Intent::HandoffToText => &HANDOFF_RE,
        Intent::Reschedule => &RESCHEDULE_RE,
        Intent::Cancel => &CANCEL_RE,
        Intent::Lookup => &LOOKUP_RE,
        Intent::Waitlist => &WAITLIST_RE,
        Intent::Book => &BOOK_RE,
        Intent::Help => &HELP_RE,
        Intent::Goodbye => &GOODBYE_RE,
    };
    r.is_match(f)
}

pub(super) fn is_leave_waitlist(text: &str) -> bool {
    LEAVE_WAITLIST_RE.is_match(&prep(text))
}

pub(super) fn is_handoff_request(text: &str) -> bool {
    HANDOFF_RE.is_match(&prep(text))
}

// ---------------------------------------------------------------------------------------
// Yes / no
// ---------------------------------------------------------------------------------------

es_re!(
    YES_RE,
    r"\b(?:claro|vale|de acuerdo|deacuerdo|correcto|perfecto|exacto|adelante|confirmo|confirmado|esta bien|ta bien|okey|oki|por supuesto|desde luego|seguro|eso es|asi es|me parece bien|me sirve|me viene bien|me queda bien|afirmativo|listo|sip|hagalo|hazlo)\b"
);
es_re!(
    NO_RE,
    r"\b(?:(?:claro|seguro|por supuesto|desde luego|pues|creo|que) que no|claro no|nel|nop|para nada|todavia no|aun no|espere|esperen|espereme|esperame|un momento|negativo|incorrecto|mejor no|de ninguna manera|nunca|tampoco)\b"
);
es_re!(SI_RE, r"\bsi\b");
es_re!(
    SI_FOLLOWER_RE,
    r"^(?:si|claro|por favor|porfa|gracias|senor|senora|senorita|please|thanks|perfecto|correcto|exacto|de acuerdo|vale|ok|okay|esta bien|adelante|confirmo|seguro|eso es|asi es)\b"
);

/// Where the earliest Spanish yes starts in `f` (the prepared text), as a byte offset.
///
/// "si" is also "if", so a bare "si" counts only when it is the answer itself: written
/// "sí" with its accent, or followed by nothing, by punctuation, or by another yes word or
/// a courtesy ("si, claro", "si por favor", "si gracias"), or closing "que si" / "pues si"
/// ("claro que si", "creo que si"). "si puede el martes" holds no yes.
pub(super) fn yes_at(text: &str, f: &str) -> Option<usize> {
    let mut best = YES_RE.find(f).map(|m| m.start());
    let acc: Vec<char> = accented(text).chars().collect();
    for m in SI_RE.find_iter(f) {
        if best.is_some_and(|b| b < m.start()) {
            break;
        }
        let ci = f[..m.start()].chars().count();
        let accent = acc.get(ci + 1) == Some(&'í');
        let after = f[m.end()..].trim_start();
        let before = f[..m.start()].trim_end();
        let answer = accent
            || after.is_empty()
            || after.starts_with([',', '.', '!', ';', ':', '?'])
            || SI_FOLLOWER_RE.is_match(after)
            || before.ends_with(" que")
            || before == "que"
            || before.ends_with("pues")
            || before.ends_with("eh");
        if answer {
            best = Some(m.start());
            break;
        }
    }
    best
}

pub(super) fn no_at(f: &str) -> Option<usize> {
    NO_RE.find(f).map(|m| m.start())
}

// ---------------------------------------------------------------------------------------
// Services and choices
// ---------------------------------------------------------------------------------------

/// Words a Spanish service name carries that say nothing about the service.
pub(super) const SERVICE_STOPWORDS: &[&str] = &[
    "un", "una", "unos", "unas", "el", "la", "los", "las", "de", "del", "y", "para", "con", "en",
    "al", "por",
];

es_re!(
    CHOICE_RE,
    r"^(?:(?:quiero|quisiera|me quedo con|prefiero|dame|deme|elijo|escojo|tomo|mejor|me gusta|me sirve|va|ok|vale|si)\s+)?(?:(?:el|la|lo)\s+)?(?:(?:opcion|numero|num|no|nro)\.?\s*|#\s*)?(\d{1,2}|uno|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|primer|primero|primera|segundo|segunda|tercer|tercero|tercera|cuarto|cuarta|quinto|quinta|sexto|sexta|septimo|septima|octavo|octava|noveno|novena|decimo|decima|ultimo|ultima|1º|1ª|2º|2ª|3º|3ª|[4-9]º|[4-9]ª|1er|1ro|1ra|2do|2da|3ro|3ra|3er)(?:\s+(?:opcion|hora|horario|cita|turno|de la lista))?(?:,?\s+(?:por favor|porfa|gracias))?[.!]?$"
);

const ORDINALS: &[&str] = &[
    "primer", "segund", "tercer", "cuart", "quint", "sext", "septim", "octav", "noven", "decim",
];

/// A pick from a numbered list in Spanish ("la segunda", "opción 3", "la última", "número
/// 2") as a 0-based index.
pub(super) fn parse_choice(text: &str, n: usize) -> Option<usize> {
    let t = prep(text);
    let t = t.trim_matches(|c: char| c == '.' || c == '!' || c == ',' || c.is_whitespace());
    let caps = CHOICE_RE.captures(t)?;
    let w = caps.get(1)?.as_str();
    let k: usize = if w.starts_with("ultim") {
        n
    } else if let Some(d) = unit(w) {
        d as usize
    } else if let Some(p) = ORDINALS.iter().position(|o| w.starts_with(o)) {
        p + 1
    } else {
        w.trim_end_matches(|c: char| !c.is_ascii_digit())
            .parse()
            .ok()?
    };
    (1..=n).contains(&k).then(|| k - 1)
}

// ---------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------

const MONTHS: &str = "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre|ene|feb|mar|abr|may|jun|jul|ago|sept|sep|set|oct|nov|dic";

fn month_number(m: &str) -> Option<u32> {
    let p = [
        "ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic",
    ]
    .iter()
    .position(|x| m.starts_with(x))
    .or_else(|| m.starts_with("set").then_some(8))?;
    Some(p as u32 + 1)
}

const WEEKDAYS: &str = "lunes|martes|miercoles|jueves|viernes|sabado|domingo";

fn weekday_of(w: &str) -> Option<Weekday> {
    Some(match w {
        "lunes" => Weekday::Mon,
        "martes" => Weekday::Tue,
        "miercoles" => Weekday::Wed,
        "jueves" => Weekday::Thu,
        "viernes" => Weekday::Fri,
        "sabado" => Weekday::Sat,
        "domingo" => Weekday::Sun,
        _ => return None,
    })
}

es_re!(TODAY_RE, r"\bhoy\b|\besta (?:manana|tarde|noche)\b");
es_re!(MANANA_RE, r"\bmanana\b");
es_re!(
    IN_DAYS_RE,
    r"\b(?:dentro de|en) (\d{1,3}) (dia|dias|semana|semanas)\b"
);
static DAY_MONTH_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"\b(\d{{1,2}}|primero|1ro|1o|1º) (?:de )?({MONTHS})\b\.?(?:,? (?:de |del )?(\d{{4}}))?"
    ))
});
static MONTH_DAY_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"\b({MONTHS})\.? (\d{{1,2}})\b(?:,? (?:de |del )?(\d{{4}}))?"
    ))
});
es_re!(SLASH_DATE_RE, r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?\b");
static DAY_NUMBER_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"\b(?:el dia|el|dia|(?:{WEEKDAYS})) (\d{{1,2}})\b"
    ))
});
static WEEKDAY_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"\b(?:(proximo|proxima|siguiente|este|esta) )?({WEEKDAYS})s?\b(?: (que viene|proximo|siguiente|de la (?:semana que viene|proxima semana|semana proxima|siguiente semana|otra semana)))?"
    ))
});
es_re!(
    DAY_NUMBER_TAIL_RE,
    r"^(?:[:/.]\d|\s*(?:am|pm|h|hs|hrs|horas|de la (?:manana|tarde|noche|madrugada)|personas|minutos|opcion)\b|\s*(?:y|menos) (?:media|cuarto|\d))"
);

/// "mañana" meaning tomorrow: not "la/las/esta mañana" (the morning, this morning).
fn says_tomorrow(t: &str) -> bool {
    MANANA_RE.find_iter(t).any(|m| {
        let before = t[..m.start()].trim_end();
        let prev = before.rsplit(' ').next().unwrap_or("");
        !matches!(prev, "la" | "las" | "esta" | "pasado" | "de" | "una")
    })
}

/// A date named in Spanish, resolved against `today`. Numeric `d/m` dates count only when
/// the text leans Spanish (see [`leans_spanish`]).
pub(super) fn parse_date(text: &str, today: NaiveDate) -> Option<NaiveDate> {
    let t = digits(&prep(text));
    if t.contains("pasado manana") {
        return Some(today + Duration::days(2));
    }
    if says_tomorrow(&t) {
        return Some(today + Duration::days(1));
    }
    if TODAY_RE.is_match(&t) {
        return Some(today);
    }
    if let Some(c) = IN_DAYS_RE.captures(&t) {
        let n: i64 = c[1].parse().ok()?;
        let days = if c[2].starts_with("semana") { n * 7 } else { n };
        return Some(today + Duration::days(days));
    }
    if let Some(c) = DAY_MONTH_RE.captures(&t) {
        let m = month_number(&c[2])?;
        let day = c[1].parse().unwrap_or(1);
        return with_year(c.get(3).map(|x| x.as_str()), today, m, day);
    }
    if let Some(c) = MONTH_DAY_RE.captures(&t) {
        let m = month_number(&c[1])?;
        return with_year(c.get(3).map(|x| x.as_str()), today, m, c[2].parse().ok()?);
    }
    if leans_spanish(text) {
        if let Some(c) = SLASH_DATE_RE.captures(&t) {
            let (d, m) = (c[1].parse().ok()?, c[2].parse().ok()?);
            return with_year(c.get(3).map(|x| x.as_str()), today, m, d);
        }
    }
    for c in DAY_NUMBER_RE.captures_iter(&t) {
        let (Some(all), Some(day)) = (c.get(0), c.get(1)) else {
            continue;
        };
        let before = t[..all.start()].trim_end();
        if before.ends_with(" a") || before.ends_with("las") || before == "a" {
            continue;
        }
        if DAY_NUMBER_TAIL_RE.is_match(&t[all.end()..]) {
            continue;
        }
        if let Some(d) = upcoming_day_of_month(today, day.as_str().parse().ok()?) {
            return Some(d);
        }
    }
    if let Some(c) = WEEKDAY_RE.captures(&t) {
        let wd = weekday_of(&c[2])?;
        let pre = c.get(1).map(|m| m.as_str());
        let post = c.get(3).map(|m| m.as_str());
        // "el martes de la semana que viene", "la próxima semana, el martes"
        if post.is_some_and(|p| p.starts_with("de la")) || NEXT_WEEK_RE.is_match(&t) {
            let monday = next_weekday(today, Weekday::Mon, true);
            return Some(monday + Duration::days(wd.num_days_from_monday() as i64));
        }
        let strict = matches!(pre, Some("proximo" | "proxima" | "siguiente")) || post.is_some();
        return Some(next_weekday(today, wd, strict));
    }
    None
}

es_re!(
    NEXT_WEEK_RE,
    r"\b(?:la |esta )?(?:semana que viene|proxima semana|semana proxima|siguiente semana|otra semana)\b"
);
es_re!(
    THIS_WEEK_RE,
    r"\b(?:esta semana|lo que queda de (?:la )?semana|resto de la semana|en la semana)\b"
);
es_re!(WEEKEND_RE, r"\bfin(?:es)? de semana\b|\bfinde\b");
es_re!(
    NEXT_WEEKEND_RE,
    r"\b(?:proximo|siguiente) (?:fin de semana|finde)\b|\b(?:fin de semana|finde) (?:que viene|proximo|siguiente)\b"
);
es_re!(
    FEW_DAYS_RE,
    r"\b(?:proximos|siguientes) (?:dias|pocos dias)\b|\b(?:en )?estos dias\b"
);

/// A date range named in Spanish: "la semana que viene", "esta semana", "el fin de
/// semana", "los próximos días". A weekday of next week ("el martes de la semana que
/// viene") is a date, not a range, and is left to [`parse_date`].
pub(super) fn parse_date_range(text: &str, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let t = prep(text);
    if WEEKDAY_RE.is_match(&t) {
        return None;
    }
    let to_sunday =
        |d: NaiveDate| d + Duration::days(6 - d.weekday().num_days_from_monday() as i64);
    if WEEKEND_RE.is_match(&t) {
        let sat = next_weekday(today, Weekday::Sat, NEXT_WEEKEND_RE.is_match(&t));
        return Some((sat, sat + Duration::days(1)));
    }
    if NEXT_WEEK_RE.is_match(&t) {
        let monday = next_weekday(today, Weekday::Mon, true);
        return Some((monday, monday + Duration::days(6)));
    }
    if THIS_WEEK_RE.is_match(&t) {
        return Some((today, to_sunday(today)));
    }
    if FEW_DAYS_RE.is_match(&t) {
        return Some((today, today + Duration::days(3)));
    }
    None
}

// ---------------------------------------------------------------------------------------
// Times
// ---------------------------------------------------------------------------------------

es_re!(
    CLOCK_RE,
    r"\b(?:(a las|las|a la|la|sobre las|hacia las|como a las|para las|despues de las|antes de las|de las|alrededor de las|tipo|eso de las)\s+)?(\d{1,2})(?:(?::|h|\.)(\d{2}))?(?:\s+(y media|y cuarto|y \d{1,2}|menos cuarto|menos \d{1,2}|en punto))?(?:\s*(am|pm|hs|hrs|horas|h)\b)?(?:\s+(?:de la|por la|en la|a la|de) (manana|tarde|noche|madrugada)|\s+(?:del|al) (mediodia))?"
);
es_re!(NOON_RE, r"\bmediodia\b");
es_re!(
    PEOPLE_RE,
    r"^\s*(?:personas?|gente|adultos?|ninos?|ninas?|pacientes?|clientes?)\b"
);
es_re!(MIDNIGHT_RE, r"\bmedianoche\b");
es_re!(GREETING_RE, r"\bbuen(?:os|as) (?:dias|tardes|noches)\b");
es_re!(
    MORNING_RE,
    r"\b(?:por|en|de|a) la manana\b|\blas mananas\b|\btemprano\b|\ba primera hora\b|\bmadrugada\b|\besta manana\b"
);
es_re!(
    AFTERNOON_RE,
    r"\bla tarde\b|\bde tarde\b|\blas tardes\b|\besta tarde\b|\bdespues de (?:comer|almorzar|la comida|del almuerzo|mediodia)\b|^(?:en la |por la )?tarde[.!]?$"
);
es_re!(
    EVENING_RE,
    r"\bla noche\b|\besta noche\b|\blas noches\b|\bde noche\b|\bdespues del trabajo\b|\bdespues de trabajar\b|\bal salir del trabajo\b|^noche[.!]?$"
);

/// The hour on a 24-hour clock for a Spanish "de la mañana / tarde / noche / madrugada".
fn hour_in_period(h: u32, period: &str) -> Option<u32> {
    Some(match (period, h) {
        ("manana", 1..=11) | ("madrugada", 1..=11) => h,
        ("manana", 12) => 12,
        ("madrugada", 12) => 0,
        ("tarde", 1..=11) => h + 12,
        ("tarde", 12..=20) => h,
        ("noche", 1..=4) => h,
        ("noche", 5..=11) => h + 12,
        ("noche", 12) => 0,
        ("noche", 18..=23) => h,
        _ => return None,
    })
}

/// A clock time said in Spanish: "a las tres y media", "a las cuatro menos cuarto", "3 de
/// la tarde", "a la una", "a las 15:30", "9:30 de la noche", "mediodía". Only a time with a
/// Spanish cue ("a las", "y media", "de la tarde"…) is read here; bare "15:30" or "3pm"
/// are left to the English reader, which reads them the same way.
pub(super) fn parse_clock(text: &str) -> Option<NaiveTime> {
    let t = digits(&prep(text));
    for c in CLOCK_RE.captures_iter(&t) {
        let prefix = c.get(1).map(|m| m.as_str());
        let minutes = c.get(4).map(|m| m.as_str());
        let ampm = c.get(5).map(|m| m.as_str());
        let period = c.get(6).map(|m| m.as_str());
        let noon = c.get(7).is_some();
        let h: u32 = c[2].parse().ok()?;
        if prefix.is_none() && minutes.is_none() && period.is_none() && !noon {
            continue;
        }
        if matches!(prefix, Some("a la" | "la")) && h != 1 {
            continue;
        }
        let m0: u32 = match c.get(3) {
            Some(m) => m.as_str().parse().ok()?,
            None => 0,
        };
        let ampm = ampm.filter(|a| matches!(*a, "am" | "pm"));
        let base = match (period, ampm) {
            (_, Some(a)) => clock_time(h, m0, Some(a))?,
            (Some(p), None) => NaiveTime::from_hms_opt(hour_in_period(h, p)?, m0, 0)?,
            (None, None) if noon => NaiveTime::from_hms_opt(if h == 12 { 12 } else { h }, m0, 0)?,
            (None, None) => clock_time(h, m0, None)?,
        };
        let people = c.get(0).is_some_and(|m| PEOPLE_RE.is_match(&t[m.end()..]));
        let delta: i64 = match minutes {
            None | Some("en punto") => 0,
            // "a las 3 y 4 personas": a head count, not minutes
            Some(s) if people && s.starts_with("y ") && s != "y media" && s != "y cuarto" => 0,
            Some("y media") => 30,
            Some("y cuarto") => 15,
            Some("menos cuarto") => -15,
            Some(s) => {
                let n: i64 = s.rsplit(' ').next()?.parse().ok()?;
                if !(1..60).contains(&n) {
                    return None;
                }
                if s.starts_with("menos") {
                    -n
                } else {
                    n
                }
            }
        };
        return Some(base + Duration::minutes(delta));
    }
    if NOON_RE.is_match(&t) {
        return NaiveTime::from_hms_opt(12, 0, 0);
    }
    if MIDNIGHT_RE.is_match(&t) {
        return NaiveTime::from_hms_opt(0, 0, 0);
    }
    None
}

/// A part of the day said in Spanish: "por la mañana", "temprano", "por la tarde", "en la
/// noche". "mañana" alone is tomorrow, not the morning; greetings ("buenas tardes") are no
/// preference.
pub(super) fn parse_period(text: &str) -> Option<DayPeriod> {
    let t = prep(text);
    let t = GREETING_RE.replace_all(&t, " ");
    let t = t.trim();
    if MORNING_RE.is_match(t) {
        Some(DayPeriod::Morning)
    } else if AFTERNOON_RE.is_match(t) {
        Some(DayPeriod::Afternoon)
    } else if EVENING_RE.is_match(t) {
        Some(DayPeriod::Evening)
    } else {
        None
    }
}

pub(super) fn parse_time(text: &str) -> Option<TimeSpec> {
    parse_clock(text).map(TimeSpec::At)
}

es_re!(
    NEXT_AVAILABLE_RE,
    r"\blo antes posible\b|\blo mas pronto\b|\bcuanto antes\b|\blo mas antes\b|\bprimer(?:o|a)? (?:hueco|horario|turno|cita|espacio|hora|lugar)\b|\bprimer(?:o|a)? (?:que (?:tenga|haya|este)|disponible|libre)\b|\blo primero que\b|\bcualquier (?:dia|hora|momento|horario)\b|\bcuando sea\b|\bel mas cercano\b|\bla mas cercana\b"
);

pub(super) fn is_next_available(text: &str) -> bool {
    NEXT_AVAILABLE_RE.is_match(&prep(text))
}

// ---------------------------------------------------------------------------------------
// Email
// ---------------------------------------------------------------------------------------

es_re!(
    EMAIL_WORDS_RE,
    r"\b(?:arroba|punto|guion bajo|guion medio|guion|raya|subrayado|barra baja|mas)\b"
);

/// Spoken Spanish email words turned into the English ones the shared reader knows
/// ("juan punto perez arroba gmail punto com" → "juan dot perez at gmail dot com"), or
/// `None` when the text holds no "arroba".
pub(super) fn email_as_english(text: &str) -> Option<String> {
    let t = prep(text);
    if !t
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| w == "arroba")
    {
        return None;
    }
    let t = EMAIL_WORDS_RE.replace_all(&t, |c: &regex::Captures| {
        match &c[0] {
            "arroba" => "at",
            "punto" => "dot",
            "guion bajo" | "subrayado" | "barra baja" => "underscore",
            "mas" => "plus",
            _ => "dash",
        }
        .to_string()
    });
    Some(t.into_owned())
}

// ---------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------

es_re!(
    NAME_INTRO_RE,
    r"(?i)\b(?:me llamo|mi nombre es|mi nombre:|soy|a nombre de|de parte de|le habla|les habla|te habla)\s+"
);

/// Spanish words that are never part of a name (folded, lower case).
const NAME_STOPWORDS: &[&str] = &[
    "y",
    "e",
    "o",
    "u",
    "que",
    "quiero",
    "quisiera",
    "necesito",
    "para",
    "por",
    "con",
    "el",
    "un",
    "una",
    "uno",
    "mi",
    "mis",
    "su",
    "tu",
    "yo",
    "nuevo",
    "nueva",
    "cliente",
    "clienta",
    "paciente",
    "estudiante",
    "alergico",
    "alergica",
    "diabetico",
    "diabetica",
    "muy",
    "bien",
    "mal",
    "aqui",
    "alla",
    "hola",
    "gracias",
    "buenos",
    "buenas",
    "si",
    "no",
    "tengo",
    "puedo",
    "estoy",
    "es",
    "soy",
    "manana",
    "hoy",
    "cita",
    "turno",
    "reservar",
    "reserva",
    "lunes",
    "martes",
    "miercoles",
    "jueves",
    "viernes",
    "sabado",
    "domingo",
    "tarde",
    "noche",
    "favor",
    "claro",
    "vale",
    "bueno",
    "como",
    "cuando",
    "donde",
    "quien",
    "porque",
    "pero",
    "ya",
    "mas",
    "llamo",
    "nombre",
    "correo",
    "ayuda",
    "perdon",
    "disculpe",
    "cual",
    "semana",
    "hora",
    "senor",
    "senora",
    "mama",
    "papa",
    "madre",
    "padre",
    "esposo",
    "esposa",
    "hijo",
    "hija",
    "nieto",
    "nieta",
    "amigo",
    "amiga",
    "solo",
    "sola",
    "cancelar",
    "cambiar",
    "aca",
    "ahora",
    "tambien",
    "del",
    "de",
    "la",
    "las",
    "los",
    "chao",
    "chau",
    "adios",
    "okey",
    "listo",
    "perfecto",
    "dale",
    "media",
    "cuarto",
    "dos",
    "tres",
    "cuatro",
    "cinco",
    "seis",
    "siete",
    "ocho",
    "nueve",
    "diez",
    "once",
    "doce",
];

/// Particles inside a Spanish name ("Ana de la Cruz"), kept only between two name words.
const PARTICLES: &[&str] = &["de", "del", "la", "las", "los"];

fn is_stopword(w: &str) -> bool {
    let core = fold(&w.trim_end_matches(['.', ',']).to_lowercase());
    NAME_STOPWORDS.contains(&core.as_str())
}

/// A bare reply word that cannot be a name in Spanish. Particles are allowed here (the
/// caller checks the whole reply), single letters too (initials).
pub(super) fn is_reply_stopword(w: &str) -> bool {
    let w = w.trim_end_matches(['.', ',']);
    let core = fold(&w.to_lowercase());
    if matches!(w, "y" | "e" | "o") {
        // the conjunction, lower case; a capital "Y" may be an initial
        return true;
    }
    core.chars().count() > 1 && !PARTICLES.contains(&core.as_str()) && is_stopword(w)
}

fn title_case(words: &[&str]) -> String {
    let lower = words.iter().all(|w| !w.chars().any(char::is_uppercase));
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let particle = PARTICLES.contains(&w.to_lowercase().as_str());
            if !lower || (particle && i > 0) {
                return w.to_string();
            }
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn take_name(rest: &str, intro: &str) -> Option<ClientName> {
    let mut taken: Vec<&str> = Vec::new();
    let mut ended_by_clause = false;
    let mut all = rest.split_whitespace().peekable();
    while let Some(w) = all.next() {
        let core = w.trim_end_matches(['.', ',', '!', '?', ';']);
        let lower = fold(&core.to_lowercase());
        let particle = PARTICLES.contains(&lower.as_str()) && !taken.is_empty();
        let plain = super::name_word(core) && !is_stopword(core);
        if taken.len() == 5 || !(plain || particle) {
            ended_by_clause = true;
            break;
        }
        taken.push(core);
        if w.len() != core.len() {
            ended_by_clause = all.peek().is_some();
            break;
        }
    }
    while taken
        .last()
        .is_some_and(|w| PARTICLES.contains(&w.to_lowercase().as_str()))
    {
        taken.pop();
    }
    let first = taken.first()?;
    // "soy …" also says what one is ("soy nueva", "soy zurdo"): a name only when it is
    // capitalized or is all that follows.
    if intro == "soy" && !first.chars().next().is_some_and(char::is_uppercase) && ended_by_clause {
        return None;
    }
    ClientName::parse(&title_case(&taken)).ok()
}

/// A name introduced in Spanish: "me llamo Ana López", "mi nombre es José", "soy María de
/// la Cruz", "a nombre de Juan Pérez", "de parte de Luis".
pub(super) fn extract_name(text: &str) -> Option<ClientName> {
    NAME_INTRO_RE.find_iter(text).find_map(|m| {
        let intro = fold(&m.as_str().trim().to_lowercase());
        take_name(&text[m.end()..], &intro)
    })
}

/// Openings a Spanish reply to "¿cómo se llama?" may start with ("sí, ", "claro, ").
pub(super) const NAME_REPLY_PREFIXES: &[&str] = &[
    "sí, ", "si, ", "claro, ", "claro ", "vale, ", "pues ", "sí ",
];

// ---------------------------------------------------------------------------------------
// References
// ---------------------------------------------------------------------------------------

/// Spanish names of letters and digits, for a reference code spelled out.
const SPELLED: &[(&str, char)] = &[
    ("be", 'B'),
    ("ce", 'C'),
    ("de", 'D'),
    ("efe", 'F'),
    ("ge", 'G'),
    ("hache", 'H'),
    ("jota", 'J'),
    ("ka", 'K'),
    ("ele", 'L'),
    ("eme", 'M'),
    ("ene", 'N'),
    ("pe", 'P'),
    ("cu", 'Q'),
    ("erre", 'R'),
    ("ere", 'R'),
    ("ese", 'S'),
    ("te", 'T'),
    ("uve", 'V'),
    ("ve", 'V'),
    ("equis", 'X'),
    ("ye", 'Y'),
    ("zeta", 'Z'),
    ("cero", '0'),
    ("uno", '1'),
    ("dos", '2'),
    ("tres", '3'),
    ("cuatro", '4'),
    ("cinco", '5'),
    ("seis", '6'),
    ("siete", '7'),
    ("ocho", '8'),
    ("nueve", '9'),
];

/// The character a Spanish spelling word stands for ("hache" → H, "siete" → 7).
pub(super) fn spelled_char(lower: &str) -> Option<char> {
    let f = fold(lower);
    SPELLED.iter().find(|(w, _)| *w == f).map(|(_, c)| *c)
}

/// A Spanish word for the dash in a spelled code.
pub(super) fn is_dash_word(lower: &str) -> bool {
    matches!(fold(lower).as_str(), "guion" | "raya" | "menos")
}

// ---------------------------------------------------------------------------------------
// Vague requests, time zones, notes, follow-ups, service questions
// ---------------------------------------------------------------------------------------

es_re!(
    VAGUE_COUNT_RE,
    r"\b(?:los|las)? ?(?:proxim[oa]s|primer[oa]s|siguientes) (\d+|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|docena|veinte|veinti\w+|treinta(?: y \w+)?|cuarenta(?: y \w+)?|cincuenta(?: y \w+)?) (?:horarios?|citas?|turnos?|huecos?|espacios?|horas?|opciones|disponibles?|libres?|fechas?)\b"
);
es_re!(
    VAGUE_ALL_RE,
    r"\btod[oa]s? (?:l[oa]s |sus )?(?:horarios?|citas?|turnos?|huecos?|espacios?|horas?|fechas?|dias?|opciones) (?:disponibles?|libres?|que (?:tenga|tengan|tienes|tiene|haya))\b|\btoda (?:la|su) disponibilidad\b|\blo que (?:tenga|tengan|tengas|haya|este) (?:disponible|libre)\b|\b(?:todo|cualquier cosa) (?:lo )?(?:que tenga|disponible|libre)\b"
);

pub(super) fn is_vague_request(text: &str) -> bool {
    let t = prep(text);
    VAGUE_COUNT_RE.is_match(&t) || VAGUE_ALL_RE.is_match(&t)
}

es_re!(
    ZONE_RE,
    r"\b(?:hora|horario|tiempo|zona horaria)(?: (?:del|de la|de|estandar del|estandar de la))? (este|centro|central|montana|pacifico|alaska|hawai|hawaii|arizona|atlantico|mexico|ciudad de mexico|espana|madrid|colombia|bogota|argentina|buenos aires|chile|santiago|peru|lima|puerto rico)\b"
);

pub(super) fn extract_time_zone(text: &str) -> Option<TimeZone> {
    let t = prep(text);
    let c = ZONE_RE.captures(&t)?;
    let name = match &c[1] {
        "este" => "America/New_York",
        "centro" | "central" => "America/Chicago",
        "montana" => "America/Denver",
        "pacifico" => "America/Los_Angeles",
        "alaska" => "America/Anchorage",
        "hawai" | "hawaii" => "Pacific/Honolulu",
        "arizona" => "America/Phoenix",
        "mexico" | "ciudad de mexico" => "America/Mexico_City",
        "espana" | "madrid" => "Europe/Madrid",
        "colombia" | "bogota" => "America/Bogota",
        "argentina" | "buenos aires" => "America/Argentina/Buenos_Aires",
        "chile" | "santiago" => "America/Santiago",
        "peru" | "lima" => "America/Lima",
        "puerto rico" => "America/Puerto_Rico",
        _ => "America/Halifax",
    };
    TimeZone::parse(name).ok()
}

es_re!(
    NOTE_RE,
    r"(?is)^\s*[¿¡]?\s*(?:(?:por favor|porfa|puede|puedes|podr[ií]a|podr[ií]as|quiero|quisiera|me gustar[ií]a)\s+)?(?:(?:agreg\w*|a[ñn]ad\w*|dej\w*|pon\w*|escrib\w*|hac\w*)\s+(?:una\s+)?)?(?:nota|anot(?:e|a|en|ar)|apunt(?:e|a|en|ar))\b(?:\s+(?:que|esto|lo siguiente|por favor))*\s*[:,\-]?\s*(.+)$"
);

/// A note asked for in Spanish: "nota: …", "anote que …", "¿puede anotar que …?",
/// "déjeme una nota: …".
pub(super) fn extract_note(text: &str) -> Option<String> {
    let caps = NOTE_RE.captures(text)?;
    let note = caps.get(1)?.as_str().trim();
    (note.chars().filter(|c| c.is_alphanumeric()).count() >= 2).then(|| note.to_string())
}

es_re!(
    FOLLOWUP_RE,
    r"\bllam\w*me\b|\bque me (?:llamen|llame|contacten|contacte|escriban|escriba|marquen|marque|devuelvan la llamada)\b|\bme (?:(?:pueden|puede|podrian|podria|puedes|podrias) )?(?:llamar|marcar|contactar|escribir un correo|mandar un correo|enviar un correo)\b|\b(?:devolver(?:me)?|devuelv\w*) la llamada\b|\b(?:contact|escrib)(?:en|e|a|ar)(?:me|nos)\b|\bme (?:contactan|contacten|llaman|escriben)\b|\bque alguien me\b"
);
es_re!(FOLLOWUP_CALL_RE, r"\b(?:llam\w*|marc\w*|telefon\w*)\b");
es_re!(
    FOLLOWUP_SMS_RE,
    r"\b(?:mensaje|mensajes|texto|sms|whatsapp)\b"
);

pub(super) fn followup_request(text: &str) -> Option<FollowupAsk> {
    let t = prep(text);
    if !FOLLOWUP_RE.is_match(&t) {
        return None;
    }
    Some(if FOLLOWUP_CALL_RE.is_match(&t) {
        FollowupAsk::Call
    } else if FOLLOWUP_SMS_RE.is_match(&t) {
        FollowupAsk::Sms
    } else {
        FollowupAsk::Email
    })
}

es_re!(
    SERVICES_RE,
    r"\bque (?:servicios|tratamientos|tipos? de (?:citas?|servicios?|consultas?|tratamientos?)|clases? de (?:citas?|servicios?))\b|\bque (?:ofrecen|ofrece|ofreces|hacen)\b|\b(?:lista|menu|carta) de (?:servicios|tratamientos|precios)\b|\b(?:sus|los|tus) (?:servicios|precios|tratamientos)\b|\bcuanto (?:cuesta|cuestan|vale|valen|sale|salen|es|dura|duran|tarda|tardan|tiempo|cobran)\b|\b(?:precio|precios|costo|costos|coste|tarifa|tarifas)\b"
);
es_re!(
    PRICE_RE,
    r"\bcuanto (?:cuesta|cuestan|vale|valen|sale|salen|es|cobran)\b|\b(?:precio|precios|costo|costos|coste|tarifa|tarifas)\b"
);

pub(super) fn is_services_question(text: &str) -> bool {
    SERVICES_RE.is_match(&prep(text))
}

pub(super) fn is_price_question(text: &str) -> bool {
    PRICE_RE.is_match(&prep(text))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::*;
    use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    fn hm(h: u32, m: u32) -> Option<TimeSpec> {
        Some(TimeSpec::At(NaiveTime::from_hms_opt(h, m, 0).unwrap()))
    }
    /// Monday 2026-12-07.
    fn monday() -> NaiveDate {
        let today = d(2026, 12, 7);
        assert_eq!(today.weekday(), Weekday::Mon);
        today
    }

    #[test]
    fn spanish_intents() {
        use Intent::*;
        let cases: &[(&str, Option<Intent>)] = &[
            ("Quiero reservar una cita", Some(Book)),
            ("quisiera agendar una cita para el martes", Some(Book)),
            ("¿Tienen disponibilidad mañana?", Some(Book)),
            ("tienen disponibilidad manana", Some(Book)),
            ("necesito un turno", Some(Book)),
            ("quiero hacer una reserva", Some(Book)),
            ("quiero pedir una cita", Some(Book)),
            ("quiero sacar una cita", Some(Book)),
            ("¿Qué horarios tienen el viernes?", Some(Book)),
            ("necesito cambiar mi cita", Some(Reschedule)),
            ("¿Puedo mover la cita al viernes?", Some(Reschedule)),
            ("quiero reprogramar", Some(Reschedule)),
            ("reagendar por favor", Some(Reschedule)),
            ("tengo que posponer mi cita", Some(Reschedule)),
            ("cámbiela para el jueves", Some(Reschedule)),
            (
                "no puedo ir el martes, ¿me la pueden cambiar?",
                Some(Reschedule),
            ),
            ("cancelar", Some(Cancel)),
            ("Quiero cancelar mi cita", Some(Cancel)),
            ("anular mi reserva", Some(Cancel)),
            ("ya no voy a poder ir", Some(Cancel)),
            ("¿Cuándo es mi cita?", Some(Lookup)),
            ("cuando es mi cita", Some(Lookup)),
            ("quiero consultar mi cita", Some(Lookup)),
            ("ver mi reserva", Some(Lookup)),
            ("ya tengo una cita", Some(Lookup)),
            ("póngame en la lista de espera", Some(Waitlist)),
            ("avísenme si se libera algo", Some(Waitlist)),
            ("mándeme un mensaje", Some(HandoffToText)),
            ("envíeme el enlace", Some(HandoffToText)),
            ("¿me puede mandar el link?", Some(HandoffToText)),
            ("ayuda", Some(Help)),
            ("¿Qué puede hacer?", Some(Help)),
            ("quiero hablar con una persona", Some(Help)),
            ("un humano por favor", Some(Help)),
            ("páseme con la recepcionista", Some(Help)),
            ("adiós", Some(Goodbye)),
            ("gracias", Some(Goodbye)),
            ("¡Muchas gracias!", Some(Goodbye)),
            ("eso es todo, gracias", Some(Goodbye)),
            ("nada más", Some(Goodbye)),
            // mixed
            ("I want una cita mañana", Some(Book)),
            ("can I cambiar mi cita?", Some(Reschedule)),
            ("el perro come pan", None),
            ("gracias, quiero reservar", Some(Book)),
        ];
        for (text, want) in cases {
            assert_eq!(detect_intent(text), *want, "{text:?}");
        }
        assert!(is_handoff_request("¿Me envía el enlace por favor?"));
        assert!(!is_handoff_request("quiero una cita"));
    }

    #[test]
    fn spanish_leave_waitlist() {
        for t in [
            "sáquenme de la lista de espera",
            "saquenme de la lista de espera",
            "quiero salir de la lista de espera",
            "ya no quiero estar en la lista de espera",
            "borrarme de la lista de espera por favor",
            "cancelar mi lista de espera",
        ] {
            assert!(is_leave_waitlist(t), "{t}");
        }
        for t in [
            "póngame en la lista de espera",
            "cancelar mi cita",
            "cancelar mi cita y ponerme en la lista de espera",
        ] {
            assert!(!is_leave_waitlist(t), "{t}");
        }
    }

    #[test]
    fn spanish_yes_and_no() {
        // A yes word that opens a no is a no ("of course not").
        for text in [
            "¡Claro que no!",
            "claro que no",
            "por supuesto que no",
            "seguro que no, gracias",
            "desde luego que no",
            "pues que no",
        ] {
            assert_eq!(super::super::yes_no(text), Some(YesNo::No), "{text}");
        }
        for text in ["of course not", "absolutely not!", "sure not"] {
            assert_eq!(super::super::yes_no(text), Some(YesNo::No), "{text}");
        }
        assert_eq!(super::super::yes_no("claro que sí"), Some(YesNo::Yes));
        assert_eq!(super::super::yes_no("of course"), Some(YesNo::Yes));
        for y in [
            "sí",
            "Sí.",
            "si",
            "SI",
            "si, claro",
            "Sí, por favor",
            "si por favor",
            "si gracias",
            "sí puede ser",
            "claro",
            "vale",
            "de acuerdo",
            "correcto",
            "perfecto",
            "exacto",
            "adelante",
            "confirmo",
            "está bien",
            "esta bien",
            "ok",
            "claro que sí",
            "creo que si",
            "sí, pero no el viernes",
            "yes, el martes",
        ] {
            assert_eq!(yes_no(y), Some(YesNo::Yes), "{y:?}");
        }
        for n in [
            "no",
            "No, gracias",
            "nel",
            "para nada",
            "todavía no",
            "todavia no",
            "espere",
            "ya no",
            "mejor no",
            "no, the other one",
        ] {
            assert_eq!(yes_no(n), Some(YesNo::No), "{n:?}");
        }
        // "si" as "if" is no answer
        for none in [
            "si puede el martes",
            "si hay algo el martes",
            "el martes",
            "hola",
        ] {
            assert_eq!(yes_no(none), None, "{none:?}");
        }
        // …but the "no" after it still is one
        assert_eq!(yes_no("si no puede, el jueves"), Some(YesNo::No));
    }

    #[test]
    fn spanish_services_and_choices() {
        let names = ["Consulta general", "Limpieza dental", "Blanqueamiento"];
        assert_eq!(match_service("quiero una consulta", &names), Some(0));
        assert_eq!(match_service("una limpieza, por favor", &names), Some(1));
        assert_eq!(
            match_service("la limpieza dental para el martes", &names),
            Some(1)
        );
        assert_eq!(match_service("blanqueamiento dental", &names), Some(2));
        assert_eq!(match_service("la segunda", &names), Some(1));
        assert_eq!(match_service("la tercera opción", &names), Some(2));
        let accented = ["Depilación", "Masaje relajante"];
        assert_eq!(match_service("depilacion", &accented), Some(0));
        assert_eq!(match_service("un masaje", &accented), Some(1));
        let english = ["Consultation", "Follow-up Visit", "Therapy Session"];
        assert_eq!(match_service("quiero una consulta", &english), Some(0));

        assert_eq!(parse_choice("la primera", 3), Some(0));
        assert_eq!(parse_choice("el segundo", 3), Some(1));
        assert_eq!(parse_choice("La tercera opción", 3), Some(2));
        assert_eq!(parse_choice("número 2", 3), Some(1));
        assert_eq!(parse_choice("numero 2", 3), Some(1));
        assert_eq!(parse_choice("la última", 4), Some(3));
        assert_eq!(parse_choice("la ultima", 4), Some(3));
        assert_eq!(parse_choice("opción 3", 3), Some(2));
        assert_eq!(parse_choice("la 2", 3), Some(1));
        assert_eq!(parse_choice("quiero la primera", 3), Some(0));
        assert_eq!(parse_choice("la segunda, por favor", 3), Some(1));
        assert_eq!(parse_choice("el 2º", 3), Some(1));
        assert_eq!(parse_choice("la cuarta", 3), None);
        assert_eq!(parse_choice("a las 2", 3), None);
        assert_eq!(parse_choice("2 personas", 3), None);
    }

    #[test]
    fn spanish_dates() {
        let today = monday();
        let cases: &[(&str, NaiveDate)] = &[
            ("hoy", today),
            ("hoy en la tarde", today),
            ("esta mañana", today),
            ("mañana", d(2026, 12, 8)),
            ("manana", d(2026, 12, 8)),
            ("MAÑANA a las 10", d(2026, 12, 8)),
            ("mañana por la mañana", d(2026, 12, 8)),
            ("pasado mañana", d(2026, 12, 9)),
            ("pasado manana", d(2026, 12, 9)),
            ("el lunes", today),
            ("el martes", d(2026, 12, 8)),
            ("el miércoles", d(2026, 12, 9)),
            ("miercoles", d(2026, 12, 9)),
            ("el sábado", d(2026, 12, 12)),
            ("el próximo martes", d(2026, 12, 8)),
            ("el proximo lunes", d(2026, 12, 14)),
            ("el martes que viene", d(2026, 12, 8)),
            ("el martes de la semana que viene", d(2026, 12, 15)),
            ("el viernes de la próxima semana", d(2026, 12, 18)),
            ("la próxima semana, el martes", d(2026, 12, 15)),
            ("la semana que viene el lunes", d(2026, 12, 14)),
            ("primero de febrero", d(2027, 2, 1)),
            ("el veinte", d(2026, 12, 20)),
            ("este viernes", d(2026, 12, 11)),
            ("el 3 de marzo", d(2027, 3, 3)),
            ("3 de marzo de 2027", d(2027, 3, 3)),
            ("el primero de enero", d(2027, 1, 1)),
            ("el 24 de diciembre", d(2026, 12, 24)),
            ("el quince de diciembre", d(2026, 12, 15)),
            ("diciembre 24", d(2026, 12, 24)),
            ("el día 15", d(2026, 12, 15)),
            ("el 15", d(2026, 12, 15)),
            ("el 5", d(2027, 1, 5)),
            ("el 15 a las 3", d(2026, 12, 15)),
            ("el martes 15", d(2026, 12, 15)),
            ("dentro de 3 días", d(2026, 12, 10)),
            ("dentro de tres dias", d(2026, 12, 10)),
            ("en una semana", d(2026, 12, 14)),
            ("en dos semanas", d(2026, 12, 21)),
            // day/month once the text leans Spanish
            ("el 3/4", d(2027, 4, 3)),
            ("para el 25/12", d(2026, 12, 25)),
            ("el 3/4/2027", d(2027, 4, 3)),
            // mixed
            ("book me for el martes", d(2026, 12, 8)),
            ("tomorrow a las 3", d(2026, 12, 8)),
        ];
        for (text, want) in cases {
            assert_eq!(parse_date(text, today), Some(*want), "{text:?}");
        }
        // English keeps month/day
        assert_eq!(parse_date("3/4", today), Some(d(2027, 3, 4)));
        assert_eq!(parse_date("on 3/4", today), Some(d(2027, 3, 4)));
        for none in [
            "por la mañana",
            "por la tarde",
            "a las 3",
            "a las 10 de la mañana",
            "si puede",
            "la semana que viene",
            "nada",
            "el 31 de febrero",
        ] {
            assert_eq!(parse_date(none, today), None, "{none:?}");
        }
        // resolve_date goes through the same reader
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-07T15:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let ny: chrono_tz::Tz = "America/New_York".parse().unwrap();
        assert_eq!(resolve_date("mañana", now, ny), Some(d(2026, 12, 8)));
    }

    #[test]
    fn spanish_date_ranges() {
        let today = monday();
        let cases: &[(&str, (NaiveDate, NaiveDate))] = &[
            ("la semana que viene", (d(2026, 12, 14), d(2026, 12, 20))),
            ("la próxima semana", (d(2026, 12, 14), d(2026, 12, 20))),
            ("algo esta semana", (today, d(2026, 12, 13))),
            ("el fin de semana", (d(2026, 12, 12), d(2026, 12, 13))),
            ("los próximos días", (today, d(2026, 12, 10))),
            (
                "el martes de la semana que viene",
                (d(2026, 12, 15), d(2026, 12, 15)),
            ),
            ("mañana", (d(2026, 12, 8), d(2026, 12, 8))),
        ];
        for (text, want) in cases {
            assert_eq!(parse_date_range(text, today), Some(*want), "{text:?}");
        }
        // on a Saturday, "el próximo fin de semana" is the one after
        let sat = d(2026, 12, 12);
        assert_eq!(
            parse_date_range("el próximo fin de semana", sat),
            Some((d(2026, 12, 19), d(2026, 12, 20)))
        );
        assert_eq!(
            parse_date_range("este fin de semana", sat),
            Some((sat, d(2026, 12, 13)))
        );
        assert_eq!(parse_date_range("hola", today), None);
    }

    #[test]
    fn spanish_times() {
        use DayPeriod::*;
        let cases: &[(&str, Option<TimeSpec>)] = &[
            ("a las tres", hm(15, 0)),
            ("a las tres y media", hm(15, 30)),
            ("a las tres y cuarto", hm(15, 15)),
            ("a las cuatro menos cuarto", hm(15, 45)),
            ("a las once y veinte", hm(11, 20)),
            ("a las 15:30", hm(15, 30)),
            ("a las 3 pm", hm(15, 0)),
            ("a las 3 p. m.", hm(15, 0)),
            ("3 de la tarde", hm(15, 0)),
            ("a las tres de la tarde", hm(15, 0)),
            ("a las 10 de la mañana", hm(10, 0)),
            ("a las 7 de la manana", hm(7, 0)),
            ("a las 9 de la noche", hm(21, 0)),
            ("9:30 de la noche", hm(21, 30)),
            ("a las 12 de la noche", hm(0, 0)),
            ("a la una", hm(13, 0)),
            ("a la una y media", hm(13, 30)),
            ("a las doce", hm(12, 0)),
            ("a las 8", hm(8, 0)),
            ("mediodía", hm(12, 0)),
            ("al mediodia", hm(12, 0)),
            ("mañana a las 10", hm(10, 0)),
            ("el 15 a las 3", hm(15, 0)),
            ("a las tres y media pm", hm(15, 30)),
            ("entre las 3 y las 5", hm(15, 0)),
            ("sobre las 10", hm(10, 0)),
            ("el martes a las cinco y cuarto", hm(17, 15)),
            ("las diez y media", hm(10, 30)),
            ("a eso de las 4", hm(16, 0)),
            ("a las 3 y 4 personas", hm(15, 0)),
            ("una limpieza el 15 de enero a las 9 y media", hm(9, 30)),
            ("el viernes a mediodía", hm(12, 0)),
            ("mañana temprano", Some(TimeSpec::Period(Morning))),
            ("tomorrow a las 3", hm(15, 0)),
            ("por la mañana", Some(TimeSpec::Period(Morning))),
            ("mañana por la mañana", Some(TimeSpec::Period(Morning))),
            ("temprano", Some(TimeSpec::Period(Morning))),
            ("mañana por la tarde", Some(TimeSpec::Period(Afternoon))),
            ("en la tarde", Some(TimeSpec::Period(Afternoon))),
            ("en la noche", Some(TimeSpec::Period(Evening))),
            ("por la noche", Some(TimeSpec::Period(Evening))),
            ("por la tarde, 4:30", hm(16, 30)),
            ("mañana", None),
            ("buenas tardes", None),
            ("el 15 de marzo", None),
            ("la segunda", None),
            ("en 2 horas", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_time(text), *want, "{text:?}");
        }
    }

    #[test]
    fn next_available_and_prices() {
        for t in [
            "lo antes posible",
            "lo más pronto",
            "cuanto antes",
            "el primer hueco",
            "el primer horario disponible",
            "cuando sea",
            "as soon as possible",
            "next available",
        ] {
            assert!(is_next_available(t), "{t}");
        }
        assert!(!is_next_available("el martes"));
        assert!(!is_next_available("tomorrow"));
        assert!(is_price_question("¿Cuánto cuesta?"));
        assert!(is_price_question("precio de la limpieza"));
        assert!(is_price_question("how much is it"));
        assert!(!is_price_question("¿cuánto dura?"));
    }

    #[test]
    fn spanish_names() {
        let cases: &[(&str, Option<&str>)] = &[
            ("me llamo Ana López", Some("Ana López")),
            ("Me llamo ana lopez y quiero una cita", Some("Ana Lopez")),
            ("mi nombre es José", Some("José")),
            ("soy María de la Cruz", Some("María de la Cruz")),
            ("soy ana", Some("Ana")),
            ("hola, soy Carmen y quería saber algo", Some("Carmen")),
            ("a nombre de Juan Pérez, por favor", Some("Juan Pérez")),
            ("de parte de Luis", Some("Luis")),
            ("soy nueva, me llamo Rosa", Some("Rosa")),
            ("soy nueva", None),
            ("soy alérgica al látex", None),
            ("soy de Madrid", None),
            ("soy cliente nuevo", None),
            ("soy zurdo y quiero una cita", None),
            ("me llamo", None),
        ];
        for (text, want) in cases {
            assert_eq!(
                extract_name(text)
                    .map(|n| n.as_str().to_string())
                    .as_deref(),
                *want,
                "{text:?}"
            );
        }
        let reply = |t: &str| parse_name_reply(t).map(|n| n.as_str().to_string());
        assert_eq!(reply("Sí, Ana Torres").as_deref(), Some("Ana Torres"));
        assert_eq!(reply("claro, juan").as_deref(), Some("Juan"));
        assert_eq!(reply("María José").as_deref(), Some("María José"));
        assert_eq!(reply("mañana"), None);
        assert_eq!(reply("el martes"), None);
        assert_eq!(reply("hola"), None);
        assert_eq!(reply("quiero una cita"), None);
        assert_eq!(reply("chao"), None);
        assert_eq!(reply("diez y media"), None);
        assert_eq!(reply("Juan Y Pérez").as_deref(), Some("Juan Y Pérez"));
    }

    #[test]
    fn spanish_emails() {
        let cases: &[(&str, &str)] = &[
            (
                "juan punto perez arroba gmail punto com",
                "juan.perez@gmail.com",
            ),
            ("mi correo es juan arroba gmail punto com", "juan@gmail.com"),
            (
                "mi correo es ana guion bajo ruiz arroba correo punto es",
                "ana_ruiz@correo.es",
            ),
            ("j u a n arroba hotmail punto es", "juan@hotmail.es"),
            ("mi correo es Juan@Gmail.com", "juan@gmail.com"),
            ("luis arroba mi guion sitio punto mx", "luis@mi-sitio.mx"),
        ];
        for (text, want) in cases {
            assert_eq!(
                extract_email(text)
                    .map(|e| e.as_str().to_string())
                    .as_deref(),
                Some(*want),
                "{text:?}"
            );
        }
        for none in [
            "mi correo es",
            "arroba gmail punto com",
            "a las tres en punto",
        ] {
            assert_eq!(extract_email(none), None, "{none:?}");
        }
    }

    #[test]
    fn spanish_spelled_references() {
        let cases: &[(&str, &str)] = &[
            ("mi código es a be ce de guion e efe ge hache", "ABCD-EFGH"),
            ("es siete ka cu dos guion eme nueve equis a", "7KQ2-M9XA"),
            ("mi código es ABCD-EFGH", "ABCD-EFGH"),
        ];
        for (text, want) in cases {
            assert_eq!(
                extract_reference(text).map(|r| r.to_string()).as_deref(),
                Some(*want),
                "{text:?}"
            );
        }
        assert_eq!(extract_reference("quiero la cita de las tres"), None);
    }

    #[test]
    fn spanish_vague_zones_notes_followups_services() {
        for v in [
            "los próximos 10 horarios",
            "las siguientes veinte citas disponibles",
            "todos los horarios disponibles",
            "lo que tenga disponible",
        ] {
            assert!(is_vague_request(v), "{v:?}");
        }
        for ok in [
            "el próximo horario disponible",
            "mañana por la tarde",
            "los próximos días",
        ] {
            assert!(!is_vague_request(ok), "{ok:?}");
        }

        let zone = |t: &str| extract_time_zone(t).map(|z| z.name().to_string());
        assert_eq!(
            zone("estoy en hora del Pacífico").as_deref(),
            Some("America/Los_Angeles")
        );
        assert_eq!(zone("hora del este").as_deref(), Some("America/New_York"));
        assert_eq!(
            zone("hora de México").as_deref(),
            Some("America/Mexico_City")
        );
        assert_eq!(zone("la hora está bien"), None);

        assert_eq!(
            extract_note("nota: soy alérgica al látex").as_deref(),
            Some("soy alérgica al látex")
        );
        assert_eq!(
            extract_note("¿Puede anotar que uso silla de ruedas?").as_deref(),
            Some("uso silla de ruedas?")
        );
        assert_eq!(
            extract_note("anote que llegaré tarde").as_deref(),
            Some("llegaré tarde")
        );
        assert_eq!(extract_note("apúntame en la lista de espera"), None);
        assert_eq!(extract_note("apuntame en la lista de espera"), None);
        assert_eq!(extract_note("notable"), None);
        assert_eq!(extract_note("quiero reservar"), None);

        assert_eq!(followup_request("llámenme"), Some(FollowupAsk::Call));
        assert_eq!(
            followup_request("prefiero que me llamen"),
            Some(FollowupAsk::Call)
        );
        assert_eq!(
            followup_request("¿me pueden llamar mañana?"),
            Some(FollowupAsk::Call)
        );
        assert_eq!(
            followup_request("que me escriban un correo"),
            Some(FollowupAsk::Email)
        );
        assert_eq!(
            followup_request("contáctenme por correo"),
            Some(FollowupAsk::Email)
        );
        assert_eq!(
            followup_request("que alguien me mande un mensaje"),
            Some(FollowupAsk::Sms)
        );
        assert_eq!(followup_request("me llamo Ana"), None);
        assert_eq!(followup_request("quiero una cita"), None);

        assert!(is_services_question("¿Qué servicios tienen?"));
        assert!(is_services_question("que servicios ofrecen"));
        assert!(is_services_question("¿Cuánto cuesta una limpieza?"));
        assert!(is_services_question("¿cuánto dura la consulta?"));
        assert!(!is_services_question("quiero una cita mañana"));
    }

    #[test]
    fn language_of_a_message() {
        use crate::domain::Locale;
        for es in [
            "Hola, quiero reservar una cita",
            "¿Tienen algo para mañana?",
            "quisiera una cita para el martes",
            "necesito cancelar mi cita",
            "gracias",
            "Gracias",
            "sí",
            "buenos días",
            "hola",
            "Hola",
            "Sí",
            "Mañana",
            "Buenos días, necesito una cita",
        ] {
            assert_eq!(detect_language(es), Some(Locale::Es), "{es:?}");
        }
        for en in [
            "Hi, I'd like to book an appointment",
            "can I reschedule my appointment?",
            "thanks",
            "yes",
            "what time is my booking tomorrow",
        ] {
            assert_eq!(detect_language(en), Some(Locale::En), "{en:?}");
        }
        for none in [
            "ok",
            "2",
            "jane@example.com",
            "Ana López",
            "María de la Cruz",
            "",
            "3pm",
            "no",
            "hola, I need una cita tomorrow",
        ] {
            assert_eq!(detect_language(none), None, "{none:?}");
        }
    }

    /// The Spanish readers stay silent on English: every English phrase of the English
    /// suite reads the same with or without them.
    #[test]
    fn spanish_readers_ignore_english() {
        let today = monday();
        for t in [
            "I'd like to book an appointment",
            "Do you have anything available tomorrow?",
            "can we move it to Friday",
            "I have to call it off",
            "when is my appointment?",
            "let me know if something opens up",
            "just send me a link please",
            "can I speak to a real person",
            "no thanks, bye",
            "purple monkey dishwasher",
            "yes, but not Friday",
            "I know",
            "the second one",
            "on tuesday at 3",
            "the 14th",
            "12/15",
            "may I book",
            "wait a second",
            "half past two",
            "quarter to four",
            "in the morning",
            "jane dot doe at gmail dot com",
            "I'm looking to book",
            "call me Bob",
            "I'm at my apartment",
            "I want next week",
            "the next available",
            "Las Vegas at 3",
        ] {
            let f = super::prep(t);
            for i in [
                Intent::Book,
                Intent::Reschedule,
                Intent::Cancel,
                Intent::Lookup,
                Intent::Waitlist,
                Intent::HandoffToText,
                Intent::Help,
                Intent::Goodbye,
            ] {
                assert!(!super::intent(&f, i), "{t:?} read as {i:?}");
            }
            assert_eq!(super::yes_at(t, &f), None, "{t:?}");
            assert_eq!(super::no_at(&f), None, "{t:?}");
            assert!(!super::is_leave_waitlist(t), "{t:?}");
            assert_eq!(super::parse_choice(t, 5), None, "{t:?}");
            assert_eq!(super::parse_date(t, today), None, "{t:?}");
            assert_eq!(super::parse_date_range(t, today), None, "{t:?}");
            assert_eq!(super::parse_clock(t), None, "{t:?}");
            assert_eq!(super::parse_period(t), None, "{t:?}");
            assert_eq!(super::email_as_english(t), None, "{t:?}");
            assert_eq!(super::extract_name(t), None, "{t:?}");
            assert!(!super::is_vague_request(t), "{t:?}");
            assert_eq!(super::extract_time_zone(t), None, "{t:?}");
            assert_eq!(super::extract_note(t), None, "{t:?}");
            assert_eq!(super::followup_request(t), None, "{t:?}");
            assert!(!super::is_services_question(t), "{t:?}");
            assert!(!super::leans_spanish(t), "{t:?}");
        }
    }

    /// Spanish marks and words in any order never panic (byte offsets, folded positions).
    #[test]
    fn never_panics_on_spanish_noise() {
        let pieces = [
            "¿", "¡", "sí", "si", "ñ", "á", "mañana", " a las ", "y media", "menos", "de la",
            "tarde", "el ", "3", "/", ":", "arroba", "punto", "soy ", "Ana", ",", "que ", "la",
            "última", "º", " ", "é", "漢", "\u{0}",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let today = monday();
        for _ in 0..2_000 {
            let mut s = String::new();
            for _ in 0..(seed % 12) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                s.push_str(pieces[(seed % pieces.len() as u64) as usize]);
            }
            let _ = detect_language(&s);
            let _ = detect_intent(&s);
            let _ = is_leave_waitlist(&s);
            let _ = yes_no(&s);
            let _ = match_service(&s, &["Depilación", "Consulta"]);
            let _ = parse_choice(&s, 4);
            let _ = parse_date(&s, today);
            let _ = parse_date_range(&s, today);
            let _ = parse_time(&s);
            let _ = extract_email(&s);
            let _ = extract_name(&s);
            let _ = parse_name_reply(&s);
            let _ = extract_reference(&s);
            let _ = is_vague_request(&s);
            let _ = is_next_available(&s);
            let _ = extract_time_zone(&s);
            let _ = extract_note(&s);
            let _ = followup_request(&s);
            let _ = is_services_question(&s);
            let _ = is_price_question(&s);
        }
    }
}
