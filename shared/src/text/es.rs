//! Spanish (US and Latin American usage, the formal "usted").
//!
//! Dates and times in the formats below are written with [`Locale::Es`]'s day and month names
//! and its "a. m." / "p. m."; the SMS keywords named here (C, R, X, RESERVAR, SALIR, PARAR,
//! AYUDA) are the ones the SMS handler accepts for Spanish.

use super::{Chat, ClientTime, Handoff, Locale, Mail, Sms, Speech, Text, Voice};

pub const TEXT: Text = Text {
    voice: VOICE,
    speech: SPEECH,
    chat: CHAT,
    sms: SMS,
    mail: MAIL,
    client_time: CLIENT_TIME,
    handoff: HANDOFF,
};

const SPEECH: Speech = Speech {
    day_format: "%A %-d de %B",
    time_format: "%-I:%M %p",
    day_time_format: "%A %-d de %B a las %-I:%M %p",
    email_dot: " punto ",
    email_at: " arroba ",
    choices: |names| match names {
        [] => String::new(),
        [one] => one.clone(),
        [first @ .., last] => format!("{} o {}", first.join(", "), last),
    },
    times: |times| match times {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} o {b}"),
        [a, b, c, ..] => format!("{a}, {b} o {c}"),
    },
};

const VOICE: Voice = Voice {
    not_set_up: "Lo sentimos, este número todavía no está preparado para recibir llamadas. Por favor, intente más tarde. Adiós.",
    lines_busy: "Lo sentimos, todas nuestras líneas están ocupadas en este momento. Por favor, vuelva a llamar en unos minutos o visite nuestro sitio web para reservar en línea. Adiós.",
    how_can_i_help: "¿En qué le puedo ayudar hoy?",
    lost_track: "Lo siento, perdí el hilo de esta llamada. Por favor, llame de nuevo. Adiós.",
    one_moment: "Perdone, un momento por favor. ¿Podría repetirlo?",
    call_ended: "Esta llamada ha terminado. Gracias por llamar. Adiós.",
    say_again: "Perdone, ¿podría repetirlo?",
    greeting: |tenant| format!("Gracias por llamar a {tenant}. Puedo reservar, cambiar o cancelar una cita, o consultar una que ya tenga. ¿En qué le puedo ayudar hoy?"),
    time_limit_offer: "Hemos llegado al tiempo máximo para reservar por teléfono. ¿Quiere que le envíe un mensaje de texto con un enlace para terminar en nuestro chat en línea?",
    goodbye: "Adiós.",
    trouble_offer: "Lo siento, me está costando entenderle. ¿Quiere que le envíe un mensaje de texto con un enlace para continuar en nuestro chat en línea?",
    heard_nothing: "Perdone, no escuché nada.",
    didnt_catch: "Perdone, no le entendí bien.",
    again: |lead, question| format!("{lead} {question}"),
    declined_final_offer: "Está bien. Gracias por llamar, que tenga un excelente día. Adiós.",
    keep_going: |question| format!("Muy bien, sigamos. {question}"),
    couldnt_help: "Lamento no haber podido ayudarle por teléfono. Por favor, visite nuestro sitio web para reservar en línea. Adiós.",
    yes_or_no_for_text:
        "Por favor, diga sí si quiere recibir el mensaje de texto, o no para seguir por teléfono.",
    intent_book: "reservar una cita",
    intent_reschedule: "cambiar una cita",
    intent_cancel: "cancelar una cita",
    intent_lookup: "consultar una cita",
    cannot_text_number: "Lo siento, no puedo enviar mensajes de texto a este número. Por favor, visite nuestro sitio web para continuar en línea. Adiós.",
    handoff_sms: |tenant, ttl| {
        format!("{tenant}: continúe su reserva en nuestro chat (enlace válido {}, un solo uso):", minutes(ttl))
    },
    handoff_sent: |ttl| {
        format!("Le envié un mensaje de texto con un enlace. Abre nuestro chat en línea justo donde nos quedamos y funciona una sola vez durante los próximos {}. Gracias por llamar. Adiós.", minutes(ttl))
    },
    handoff_opted_out: "Este número se dio de baja de nuestros mensajes de texto, así que no puedo enviarle el enlace. Responda INICIAR a nuestro número para volver a recibirlos, o visite nuestro sitio web. Adiós.",
    handoff_rate_limited: "Ya enviamos varios mensajes de texto a este número, así que ahora no puedo enviar otro. Por favor, revise sus mensajes recientes o visite nuestro sitio web. Adiós.",
    handoff_failed: "Lo siento, no pude enviar el mensaje de texto. Por favor, visite nuestro sitio web para continuar en línea. Adiós.",
    ask_booking_email: "Gracias. ¿Y cuál es el correo electrónico de la reserva?",
    ask_reference_spelled:
        "Claro. ¿Cuál es su código de reserva? Puede deletrearlo, letra por letra.",
    help: "Puedo reservar una cita nueva, cambiar o cancelar una cita, o consultar una reserva que ya tenga. También puedo enviarle por mensaje de texto un enlace a nuestro chat en línea. ¿Qué desea hacer?",
    thanks_goodbye: "Gracias por llamar. Adiós.",
    which_service: |choices| format!("¿Qué servicio desea: {choices}?"),
    which_day: |service| format!("Perfecto, {service}. ¿Qué día le gustaría venir?"),
    day_passed: "Ese día ya pasó. ¿Qué otro día le convendría?",
    beyond_lookahead: |max_days_ahead| {
        format!("Solo puedo reservar con hasta {max_days_ahead} días de anticipación. ¿Qué día más cercano le sirve?")
    },
    no_openings: |day| {
        format!("Lo siento, no hay horarios disponibles el {}. ¿Qué otro día le serviría?", end(day))
    },
    offer_times: |day, times| format!("El {day} tengo disponible: {}. ¿Qué hora prefiere?", end(times)),
    exact_time_not_open: |question| format!("Esa hora exacta no está disponible. {question}"),
    holding_to_move: |when| {
        format!("Tengo apartado el {}. ¿Cambio su cita a esa hora?", end(when))
    },
    holding_ask_name: |when| {
        format!("Le tengo apartado el {}. ¿Me dice su nombre y apellido, por favor?", end(when))
    },
    just_taken: |question| format!("Lo siento, esa hora se acaba de ocupar. {question}"),
    closed_then: |question| format!("Lo siento, a esa hora estamos cerrados o esa persona del equipo no está disponible. {question}"),
    day_full: |question| format!("Lo siento, ese día ya está completo. {question}"),
    ask_email: |name| format!("Gracias, {name}. ¿A qué correo electrónico le enviamos la confirmación? Por ejemplo, ana punto perez arroba gmail punto com."),
    confirm: |service, when, name, email| format!("Para confirmar: {service} el {when}, a nombre de {name}, con la confirmación enviada a {email}. ¿Hago la reserva?"),
    nothing_booked: "Está bien, no se reservó nada. ¿Qué otro día prefiere?",
    pick_again: "Elijamos la hora otra vez. ¿Qué día le gustaría?",
    name_again: "¿Me repite su nombre y apellido, por favor?",
    booked_by_phone: "reservada por teléfono",
    booked: |service, when, reference| format!("Listo. Su cita de {service} quedó reservada para el {}. Su código de reserva es {reference}. Le enviaremos una confirmación por correo electrónico. ¿Le puedo ayudar en algo más?", end(when)),
    no_longer_available: |question| {
        format!("Lo siento, esa hora ya no está disponible. {question}")
    },
    what_else: "Claro. ¿En qué más le puedo ayudar?",
    great_day_goodbye: "Gracias por llamar. Que tenga un excelente día. Adiós.",
    reference_thanks: |reference| {
        format!("Gracias, {reference}. ¿Y cuál es el correo electrónico de la reserva?")
    },
    ask_reference: "¿Cuál es su código de reserva?",
    booking_not_found: "No encontré ninguna reserva con ese código y ese correo electrónico. ¿Me podría repetir el código?",
    your_booking: |service, when| format!("su cita de {service} el {when}"),
    appointment: "cita",
    found_cancelled: |booking| format!("Encontré {booking}, pero está cancelada. ¿Le puedo ayudar en algo más?"),
    found_to_cancel: |booking| format!("Encontré {}. ¿Confirma que quiere cancelarla?", end(booking)),
    found_to_reschedule: |booking| {
        format!("Encontré {}. ¿A qué día le gustaría cambiarla?", end(booking))
    },
    found: |booking| {
        format!("Encontré {}. ¿Desea cambiarla o cancelarla, o eso es todo?", end(booking))
    },
    move_to_which_day: "¿A qué día le gustaría cambiarla?",
    sure_to_cancel: "¿Confirma que quiere cancelarla?",
    change_cutoff: |why| format!("Lo siento, ya no puedo cambiar esa reserva por teléfono: {why}. Adiós."),
    cancelled: "Su cita quedó cancelada. ¿Le puedo ayudar en algo más?",
    booking_gone: "Ya no encuentro esa reserva. ¿Cuál es el código de reserva?",
    left_as_is: "Muy bien, dejé su cita como estaba. ¿Le puedo ayudar en algo más?",
    moved: |when, reference| format!("Listo. Su cita ahora es el {when} y su código de reserva sigue siendo {reference}. ¿Le puedo ayudar en algo más?"),
    no_longer_available_pick_day:
        "Lo siento, esa hora ya no está disponible. ¿Qué otro día prefiere?",
    unchanged: "Está bien, su cita no cambió. ¿Qué otro día le gustaría?",
    connecting: "Le comunico con una persona ahora. Por favor, espere.",
    connecting_after_trouble:
        "Disculpe, no logré entenderle. Le comunico con una persona ahora. Por favor, espere.",
    connecting_time_limit:
        "Llegamos al tiempo máximo de esta llamada. Le comunico con una persona ahora. Por favor, espere.",
    transfer_done: "Gracias por llamar. Adiós.",
    voicemail_prompt: "En este momento nadie puede atender su llamada. Deje su nombre, su número y un mensaje breve después del tono. Oprima la tecla numeral o cuelgue cuando termine.",
    voicemail_no_transfer: "No hay nadie disponible para atender llamadas en esta línea, pero puede dejar un mensaje para el personal. Deje su nombre, su número y un mensaje breve después del tono. Oprima la tecla numeral o cuelgue cuando termine.",
    voicemail_nothing: "No recibí ningún mensaje. Llame cuando quiera. Adiós.",
    voicemail_saved: "Gracias. Su mensaje se entregó al personal. Adiós.",
    why_asked: "pidió hablar con una persona",
    why_misunderstood: "la recepcionista no logró entenderle",
    why_time_limit: "la llamada llegó a su tiempo máximo",
    unknown_caller: "un número desconocido",
    handover_date_format: "%A %-d de %B",
    handover_sms: |c| {
        let mut s = format!("{}: llamada de {} transferida a usted ({}).", c.tenant, c.caller, c.why);
        if let Some(w) = c.wants {
            s.push_str(&format!(" Quiere {w}."));
        }
        if let Some(x) = c.service {
            s.push_str(&format!(" Servicio: {x}."));
        }
        if let Some(x) = c.day {
            s.push_str(&format!(" Día: {x}."));
        }
        if let Some(x) = c.name {
            s.push_str(&format!(" Nombre: {x}."));
        }
        s
    },
    voicemail_email_subject: |tenant, caller| format!("{tenant}: nuevo mensaje de voz de {caller}"),
    voicemail_email_body: |m| {
        let mut s = format!(
            "Una persona dejó un mensaje de voz para {}.\n\nNúmero: {}\nMotivo: {}\n",
            m.tenant, m.caller, m.why
        );
        if let Some(n) = m.seconds {
            s.push_str(&format!("Duración: {n} segundos\n"));
        }
        s.push_str(&format!("Grabación: {}\n", m.recording_url));
        match m.transcription {
            Some(t) => s.push_str(&format!("\nTranscripción:\n{t}\n")),
            None => s.push_str("\nLa página de administración muestra el mensaje con su transcripción cuando esté lista.\n"),
        }
        s
    },
    voicemail_sms: |tenant, caller, url| format!("{tenant}: nuevo mensaje de voz de {caller}. Escúchelo: {url}"),
    language_offer: |key| format!("Para español, oprima {key} o diga español."),
    intent_keys: |first| {
        format!(
            "También puede oprimir {} para reservar, {} para cambiar una cita, {} para cancelarla o {} para consultarla.",
            first,
            first + 1,
            first + 2,
            first + 3
        )
    },
    press_for: |items| {
        let keyed: Vec<String> = items
            .iter()
            .enumerate()
            .map(|(i, x)| format!("{} para {x}", i + 1))
            .collect();
        match keyed.as_slice() {
            [] => String::new(),
            [one] => format!("Oprima {one}."),
            [first @ .., last] => format!("Oprima {} o {last}.", first.join(", ")),
        }
    },
    date_keys: "O marque el mes y el día con cuatro dígitos, por ejemplo 0 3 1 5 para el 15 de marzo.",
    time_keys: "O marque otra hora con cuatro dígitos en formato de 24 horas, por ejemplo 1 4 3 0 para las 2:30 p. m., u oprima 0 para otro día.",
    yes_no_keys: "Oprima 1 para sí, 2 para no.",
    found_keys: "Oprima 1 para cambiarla, 2 para cancelarla o 3 si eso es todo.",
    name_or_keypad: "Si prefiere usar solo el teclado, oprima 9 y le enviaré un código por mensaje de texto a este teléfono.",
    reference_or_keypad: "U oprima 9 para buscar sus citas por este número de teléfono, con un código que le enviaré por mensaje de texto.",
    code_sms: |tenant, code, ttl| {
        format!("{tenant}: su código telefónico es {code}. Es válido por {ttl} minutos. No lo comparta con nadie.")
    },
    code_sent: "Le envié un código de 6 dígitos por mensaje de texto a este teléfono. Márquelo en su teclado y luego oprima la tecla numeral.",
    code_wrong: "Ese código no es correcto. Marque otra vez el código de 6 dígitos.",
    code_expired_resent: "Ese código venció, así que le envié uno nuevo. Márquelo, por favor.",
    code_failed: "Lo siento, no pude verificar este teléfono. Llame más tarde o visite nuestro sitio web. Adiós.",
    code_not_sent: |question| format!("Lo siento, no puedo enviar un código a este teléfono. {question}"),
    verified_confirm: |service, when, email| {
        format!("Gracias, este teléfono quedó verificado. Confirmo: {service} el {when}, con el nombre y el correo de su cita anterior, el correo que empieza con {email}. ¿La reservo? Si ese correo no es suyo, diga que no.")
    },
    email_link_sms: |tenant, ttl| {
        format!("{tenant}: agregue su correo para terminar su reserva en nuestro chat (enlace válido por {ttl} minutos, un solo uso):")
    },
    email_link_sent: |ttl| {
        format!("Gracias, este teléfono quedó verificado. Una reserva necesita un correo electrónico para su confirmación, así que le envié un enlace a nuestro chat en línea, donde este horario queda apartado para usted por unos minutos: agregue allí su nombre y su correo para terminar. El enlace funciona una sola vez, dentro de los próximos {ttl} minutos. Adiós.")
    },
    phone_bookings: |choices| format!("Gracias, este teléfono quedó verificado. Encontré estas próximas citas. {choices}"),
    no_phone_bookings: "No encontré próximas citas para este número de teléfono. ¿Hay algo más en lo que pueda ayudarle?",
};

const CHAT: Chat = Chat {
    start_question: "Puedo reservar una cita, consultarla, cambiarla o cancelarla, o anotarle en la lista de espera. ¿Qué desea hacer?",
    didnt_catch: |question| format!("Perdone, no le entendí. {question}"),
    help: "Puedo reservar una cita, consultarla, cambiarla o cancelarla, o anotarle en la lista de espera. No puedo hacer ni transferir llamadas, pero puedo hacer todo aquí en el chat. ¿Qué desea hacer?",
    already_texting: "Ya está hablando conmigo por escrito: le puedo ayudar aquí mismo. Puedo reservar una cita, consultarla, cambiarla o cancelarla, o anotarle en la lista de espera.",
    goodbye: "Gracias por su visita. ¡Que tenga un excelente día!",
    vague_request: "Con gusto le ayudo a encontrar un horario. Para mostrarle las opciones adecuadas: ¿qué día (o días) tiene en mente, y prefiere la mañana o la tarde? Si solo quiere el primer horario libre, escriba \"lo antes posible\".",
    slot_label_format: "%a %-d de %b, %-I:%M %p",
    slot_label_time_after: ", ",
    followup_sla: "en unos minutos o, como mucho, en un par de horas",
    numbered: |number, item| format!("{number}. {item}"),
    service_option: |number, name, minutes| format!("{number}. {name} ({minutes} min)"),
    which_service: |options| format!("¿Qué servicio desea? {}", options.join(", ")),
    ask_date: "¿Qué día le conviene? Por ejemplo \"mañana\", \"el próximo martes\" o \"3 de dic\".",
    confirm_far_date: |date| {
        format!(
            "Para confirmar, ¿se refiere al {}? (sí/no)",
            Locale::Es.date(date, "%A %-d de %B de %Y")
        )
    },
    which_date: "¿Qué fecha desea?",
    which_time: |options| {
        format!(
            "¿Qué hora desea? {} (o indique otro día)",
            options.join(", ")
        )
    },
    ask_name: "¿Me dice su nombre completo, por favor?",
    ask_email: "¿A qué correo electrónico le envío la confirmación?",
    confirm_booking: |service, when, name, email| {
        format!("Por favor, confirme: {service} el {when} a nombre de {name} ({email}). ¿Hago la reserva? (sí/no)")
    },
    your_appointment: "su cita",
    shall_i_book: "¿Hago la reserva? (sí/no)",
    ask_reference: "¿Cuál es su código de reserva? Tiene la forma ABCD-EFGH.",
    ask_lookup_email: "¿Y el correo electrónico con el que reservó?",
    ask_change_email: "Para proteger su reserva, por favor escriba el correo electrónico con el que se hizo.",
    sure_to_cancel: "¿Confirma que quiere cancelarla? (sí/no)",
    confirm_move: |when| format!("¿Cambio su cita al {when}? (sí/no)"),
    which_new_time: "¿Qué nuevo horario desea?",
    offer_waitlist: "¿Quiere que le anote en la lista de espera? (sí/no)",
    ask_waitlist_email: "¿A qué correo electrónico le avisamos cuando se libere un horario?",
    no_problem: |question| format!("No hay problema. {question}"),
    date_passed: |question| format!("Esa fecha ya pasó. {question}"),
    beyond_lookahead: |max_days_ahead, until, question| {
        format!(
            "Solo puedo reservar con hasta {max_days_ahead} días de anticipación (hasta el {}). {question}",
            Locale::Es.date(until, "%-d de %b")
        )
    },
    no_openings_waitlist: |service, from, to| {
        format!(
            "No veo horarios disponibles para {service} entre el {} y el {}. ¿Quiere que le anote en la lista de espera para avisarle si se libera algo? (sí/no)",
            Locale::Es.date(from, "%a %-d de %b"),
            Locale::Es.date(to, "%a %-d de %b"),
        )
    },
    offer_times: |nothing_on, service, day, options| {
        let day = day
            .map(|d| Locale::Es.date(d, "%A %-d de %B"))
            .unwrap_or_default();
        let lead = match nothing_on {
            Some(date) => format!(
                "No hay nada el {}, pero estos son",
                Locale::Es.date(date, "%A %-d de %B")
            ),
            None => "Estos son".to_string(),
        };
        format!(
            "{lead} los horarios disponibles para {service} el {day}: {}. ¿Cuál prefiere?",
            end(&options.join(", "))
        )
    },
    not_an_open_time: |time, question| {
        format!(
            "{} no es uno de los horarios disponibles. {question}",
            Locale::Es.time(time, "%-I:%M %p")
        )
    },
    holding: |when, question| format!("Le aparto el {when} por unos minutos. {question}"),
    just_taken: |offer| format!("Lo siento, esa hora se acaba de ocupar. {offer}"),
    closed_then: |offer| format!("Lo siento, a esa hora estamos cerrados o esa persona del equipo no está disponible. {offer}"),
    day_full: |offer| format!("Lo siento, ese día ya está completo. {offer}"),
    nothing_booked: "No hay problema: no reservé nada. ¿Qué otro día u hora prefiere? (O escriba \"cancelar\" si cambió de opinión.)",
    hold_inactive: |question| format!("Ese horario ya no está apartado. {question}"),
    booked: |service, when, reference| format!("Listo, su cita está confirmada: {service} el {}. Su código de reserva es {reference}. Guárdelo junto con su correo electrónico para consultar, cambiar o cancelar la cita.", end(when)),
    hold_expired: |offer| format!("Lo siento, el tiempo para apartar ese horario se venció. {offer}"),
    booked_by_someone_else: |offer| {
        format!("Lo siento, otra persona acaba de reservar esa hora. {offer}")
    },
    shows_cancelled: |reference, service, when| format!("La reserva {reference} ({service} el {when}) aparece como cancelada. ¿Quiere reservar un nuevo horario?"),
    found_to_cancel: |service, when, reference| format!("Encontré su cita de {service} el {when} (código {reference}). ¿Confirma que quiere cancelarla? (sí/no)"),
    found_to_reschedule: |service, when, reference| format!("Encontré su cita de {service} el {when} (código {reference}). ¿Qué nuevo día le gustaría?"),
    found: |service, when, reference, status| {
        let status = match status {
            "confirmed" => "confirmada",
            "cancelled" => "cancelada",
            other => other,
        };
        format!("Su cita de {service} es el {when}: código {reference}, estado {status}. ¿Le puedo ayudar en algo más?")
    },
    booking_not_found: "No encontré ninguna reserva con ese código y ese correo electrónico. ¿Podría revisar el código (tiene la forma ABCD-EFGH) y enviarlo de nuevo?",
    left_as_is: "Muy bien, dejé su cita como estaba. ¿Algo más?",
    cancelled: |reference, when| format!("Su cita {reference} del {when} quedó cancelada."),
    nothing_changed: |question| format!("No hay problema, no cambió nada. {question}"),
    rescheduled: |when, reference| format!("Listo, su cita se cambió al {}. Su código de reserva sigue siendo {reference}.", end(when)),
    okay: |question| format!("Muy bien. {question}"),
    an_appointment: "una cita",
    your_email: "su correo electrónico",
    on_waitlist: |service, email| format!("Quedó en la lista de espera para {service}. Si se libera un horario que le sirva, le avisaremos a {email} (normalmente entre unos minutos y un par de horas después de que se libere)."),
    left_waitlist: |n| match n {
        0 => "No está en nuestra lista de espera desde esta conversación, así que no había nada que quitar.".into(),
        _ => "Listo, salió de la lista de espera. No le enviaremos más horarios disponibles.".into(),
    },
    tool_system_error: "Lo siento, tenemos un problema técnico en este momento y no pude completar eso. No se cambió nada; por favor, intente de nuevo en un momento.",
    too_far_ahead: |question| format!("Esa fecha está más lejos de lo que puedo reservar. {question}"),
    change_cutoff: |why| format!("Lo siento, no puedo cambiar esa reserva aquí: {why}."),
    already_cancelled: "Esa reserva ya está cancelada.",
    didnt_work: |error, question| format!("Lo siento, eso no funcionó ({error}). {question}"),
    handoff_welcome: "¡Hola de nuevo! Tengo los datos de su llamada",
    handoff_welcome_end: ". Sigamos donde nos quedamos.",
    handoff_day_format: "%A %-d de %B",
    system_issue: "Lo siento, tenemos un problema técnico en este momento y no puedo completar eso. No se hizo ningún cambio en ninguna cita. Por favor, intente de nuevo en un momento.",
    unbacked_claim: "Todavía no lo he completado: hasta ahora no se ha reservado ni cambiado ninguna cita. ¿Continúo?",
    no_calls: "No puedo hacer, recibir ni transferir llamadas, pero puedo ayudarle aquí mismo en el chat, o programar un seguimiento por correo electrónico o mensaje de texto si lo prefiere.",
    say_another_way: "Perdone, ¿podría decirlo de otra manera?",
    status_checking: "Revisando la agenda…",
    status_holding: "Apartando ese horario para usted…",
    status_confirming: "Confirmando su reserva…",
    status_followup: "Programando el seguimiento…",
    status_working: "La recepcionista está en ello…",
    note_saved: |note, question| format!("Anoté: \"{note}\". Se guardará con su reserva. {question}"),
    note_kept: |note| format!("Anoté: \"{note}\". Se guardará con la reserva que haga en este chat. ¿Quiere reservar una cita?"),
    note_line: |note| format!(" Nota para el equipo: \"{note}\"."),
    services_list: |lines, follow| format!("Esto es lo que ofrecemos:\n{}\n{follow}", lines.join("\n")),
    service_line: |name, minutes, description| {
        if description.trim().is_empty() {
            format!("- {name} ({minutes} min)")
        } else {
            format!("- {name} ({minutes} min): {}", description.trim())
        }
    },
    no_prices: "No tengo los precios aquí; el equipo se los puede indicar cuando venga.",
    which_to_book: "¿Cuál le gustaría reservar?",
    offer_followup: "¿Quiere que el equipo le escriba por correo electrónico (o por mensaje de texto, si me da su número de celular) cuando le pueda ayudar? No puedo hacer llamadas. (sí/no)",
    followup_instead_of_call: "No puedo hacer ni recibir llamadas, pero puedo pedir que el equipo le escriba por correo electrónico (o por mensaje de texto, si me da su número de celular). ¿Le parece bien? (sí/no)",
    ask_followup_email: "¿A qué correo electrónico le escribe el equipo?",
    followup_scheduled: |channel, when| format!("Listo: el equipo le enviará un {channel} de seguimiento; espérelo {}. ¿Le puedo ayudar en algo más?", end(when)),
    channel_email: "correo electrónico",
    channel_sms: "mensaje de texto",
    followup_another: "Ya hay un seguimiento programado desde este chat. ¿Quiere uno adicional? (sí/no)",
    followup_on_its_way: "Hace poco se programó un seguimiento a ese contacto y ya va en camino, así que no programé otro.",
    followup_limit: "Este chat ya tiene el máximo de seguimientos que podemos programar, así que no programé otro. Igual le puedo ayudar aquí.",
    followup_day_full: "El equipo ya no puede programar más mensajes de seguimiento hoy, así que no se programó nada. Puede volver a este chat más tarde.",
    followup_declined: "No hay problema: no se programó ningún seguimiento. ¿Le puedo ayudar en algo más?",
};

const SMS: Sms = Sms {
    when_format: "%a %-d de %b, %-I:%M %p",
    opted_in: |tenant| {
        format!("{tenant}: volverá a recibir nuestros mensajes. Responda AYUDA para obtener ayuda o PARAR para darse de baja.")
    },
    help: |tenant| {
        format!("{tenant}: mensajes sobre sus citas. Responda C para confirmar, R para cambiar o X para cancelar su próxima cita. Responda PARAR para darse de baja. Pueden aplicarse tarifas de mensajes y datos.")
    },
    unknown_sender: |tenant| {
        format!("{tenant}: responda AYUDA para obtener ayuda. Para reservar, llámenos o visite nuestro sitio web.")
    },
    no_booking: |tenant| {
        format!("{tenant}: no encontramos ninguna cita próxima reservada con este número.")
    },
    appointment: "cita",
    booking: |service, when| format!("{service} el {when}"),
    attendance_confirmed: |tenant, booking, reference| {
        format!("{tenant}: ¡gracias! Su cita de {booking} está confirmada (código {reference}). Le esperamos.")
    },
    cancel_failed: |tenant| {
        format!(
            "{tenant}: no pudimos cancelar esa reserva por mensaje de texto; por favor, llámenos."
        )
    },
    cancelled: |tenant, booking| {
        format!("{tenant}: su cita de {booking} quedó cancelada. Puede volver a reservar en línea.")
    },
    not_found: |tenant| format!("{tenant}: no se encontró esa cita."),
    confirm_cancel: |tenant, minutes, booking, reference| {
        format!("{tenant}: responda X otra vez en los próximos {minutes} minutos para cancelar su cita de {booking} (código {reference}). Todavía no se canceló nada.")
    },
    unrecognised: |tenant, booking| {
        format!("{tenant}: responda C para confirmar, R para cambiar o X para cancelar su cita de {}. Responda AYUDA para obtener ayuda.", end(booking))
    },
    intent_reschedule: "cambiar una cita",
    reschedule_link: |tenant, service, ttl, link| {
        format!(
            "{tenant}: cambie su cita de {service} aquí (un solo uso, válido {}): {link}",
            minutes(ttl)
        )
    },
    link_failed: |tenant| {
        format!(
            "{tenant}: no pudimos crear un enlace en este momento; por favor, intente más tarde."
        )
    },
    opt_out_tail: |reference| match reference {
        Some(r) => format!("código {r}. Responda PARAR para darse de baja."),
        None => "Responda PARAR para darse de baja.".into(),
    },
    from_subject: |subject| format!("{subject}:"),
    hold_released: |tenant, when| {
        format!("{tenant}: se liberó el horario que tenía apartado para el {}. Puede que siga libre: vuelva al chat para reservar.", end(when))
    },
    schedule_change: |tenant, booking, offer| {
        format!("{tenant}: ya no podemos atenderle en su cita de {booking} (estaremos cerrados o su especialista no estará). Su reserva se mantiene hasta que usted decida. {offer}")
    },
    change_cutoff: |tenant, why| format!("{tenant}: su reserva no se canceló: {why}."),
    waitlist_match: |tenant, service, when| {
        format!(
            "{tenant}: se liberó un horario de {service} el {}. Vuelva al chat para reservarlo.",
            end(when)
        )
    },
    contact_followup: |tenant, about| {
        format!("{tenant}: nos pidió que le contactáramos{about}. Responda o visite el chat para ver los horarios disponibles.")
    },
    confirm_needed: |tenant, service, when, deadline| {
        format!("{tenant}: por favor, responda C antes del {deadline} para mantener su cita de {service} el {}. Si no responde, el horario se liberará.", end(when))
    },
    no_show_followup: |tenant, service, options| {
        if options.is_empty() {
            format!("{tenant}: le esperábamos en su cita de {service}. Puede reservar otro horario en línea.")
        } else {
            format!("{tenant}: le esperábamos en su cita de {service}. Horarios disponibles: {}. Reserve uno en línea.", end(options))
        }
    },
    waitlist_offer: |tenant, service, when, minutes| {
        format!("{tenant}: se liberó un horario de {service} el {when} y se lo apartamos por {minutes} min. Responda RESERVAR para tomarlo o SALIR para salir de la lista de espera.")
    },
    waitlist_booked: |tenant, booking, reference| {
        format!("{tenant}: ¡listo! Su cita de {booking} quedó reservada (código {reference}).")
    },
    waitlist_no_offer: |tenant| {
        format!("{tenant}: en este momento no hay ningún horario apartado para este número.")
    },
    waitlist_offer_gone: |tenant| {
        format!("{tenant}: lo sentimos, ese horario ya no está apartado para usted.")
    },
    waitlist_left: |tenant, n| {
        match n {
        0 => format!("{tenant}: este número no está en nuestra lista de espera."),
        _ => format!("{tenant}: salió de la lista de espera. No le enviaremos más mensajes sobre horarios libres."),
    }
    },
    reminder: |tenant, service, lead, when, link| {
        let text = format!("{tenant}: recordatorio, su cita de {service} es {lead}, {}. Responda C para confirmar, R para cambiar o X para cancelar.", end(when));
        if link.is_empty() {
            text
        } else {
            format!("{text} En línea: {link}")
        }
    },
    with_link: |text, link| format!("{text} {link}"),
    opted_out: |tenant| {
        format!("{tenant}: ya no recibirá más mensajes de texto nuestros. Responda INICIAR para volver a recibirlos.")
    },
};

const MAIL: Mail = Mail {
    when_format: "%A %-d de %B a las %-I:%M %p %Z",
    time_format: "%-I:%M %p",
    default_sender: "gomomo",
    there: "cliente",
    appointment: "Cita",
    default_subject: |tenant| format!("Un mensaje de {tenant}"),
    signed: |body, tenant| format!("{body}\n--\n{tenant}\n"),
    sent_by: |tenant| format!("Enviado por {tenant}"),
    calendar_summary: |service, reference| format!("{service} ({reference})"),
    invite_summary: |service, tenant| format!("{service} en {tenant}"),
    invite_description: |service, tenant, reference| {
        format!("{service} en {tenant}. Código de reserva {reference}. Para cambiar o cancelar la cita, use su código y su correo electrónico.")
    },
    confirmed: "confirmada",
    rescheduled: "cambiada",
    confirmation_subject: |service, state, when, reference| {
        format!("Su cita de {service} está {state}: {when} ({reference})")
    },
    confirmation_body: |name, service, tenant, state, when, reference| {
        format!("Hola, {name}:\n\nSu cita de {service} en {tenant} está {state} para el {}.\nCódigo de reserva: {reference}\n\nPara cambiarla o cancelarla, use su código y este correo electrónico.\n", end(when))
    },
    cancellation_subject: |service, when, reference| {
        format!("Cancelada: su cita de {service} del {when} ({reference})")
    },
    cancellation_body: |name, service, tenant, when, reference| {
        format!("Hola, {name}:\n\nSu cita de {service} en {tenant} del {when} quedó cancelada (código {reference}).\nPuede reservar otro horario cuando le convenga.\n")
    },
    lead_tomorrow: "mañana",
    lead_two_hours: "en unas dos horas",
    reminder_subject: |service, lead, when| format!("Recordatorio: {service} {lead}, {when}"),
    reminder_body: |name, service, tenant, lead, when, reference| {
        format!("Hola, {name}:\n\nLe recordamos que su cita de {service} en {tenant} es {lead}: {}.\nCódigo de reserva: {reference}\n\nSi ya no puede asistir, por favor cámbiela o cancélela con su código.\n", end(when))
    },
    on_calendar: |reference| format!("Su reserva {reference} ya está en el calendario."),
    escalation_subject: |service, when, reference| {
        format!("Su cita de {service} del {when} está reservada ({reference})")
    },
    escalation_body: |name, service, tenant, when, reference| {
        format!("Hola, {name}:\n\nSu cita de {service} en {tenant} del {when} está confirmada (código {reference}). No pudimos agregarla automáticamente a nuestro sistema de calendario; ya avisamos a nuestro equipo y se encargará. Usted no tiene que hacer nada.\n")
    },
    escalation_admin_subject: |reference| {
        format!("Acción necesaria: falló la sincronización del calendario de {reference}")
    },
    escalation_admin_body: |reference, service, when, attempts| {
        format!("La reserva {reference} ({service} el {when}) no se pudo escribir en el calendario tras {attempts} intentos. Por favor, agréguela a mano.\n")
    },
    calendar_revoked_subject: |resource| format!("Acción necesaria: vuelva a conectar el calendario de {resource}"),
    calendar_revoked_body: |resource, provider, error| {
        format!("El calendario de {provider} de {resource} rechazó nuestras credenciales ({error}). Hasta que se vuelva a conectar, los horarios de {resource} no se ofrecen a los clientes y las reservas nuevas no se escriben en ese calendario. Vuelva a conectarlo en la consola, en Calendarios.\n")
    },
    calendar_drift_subject: |reference| format!("El evento de calendario de la reserva {reference} cambió fuera de gomomo"),
    calendar_drift_body: |reference, resource, found| {
        let found = match found {
            "missing" => "eliminado o movido",
            other => other,
        };
        format!("El evento de calendario de la reserva {reference} en el calendario de {resource} fue {found} fuera de gomomo. La reserva en sí no cambió; para cambiarla, cámbiela o cancélela en la consola para que se le avise al cliente.\n")
    },
    hold_released_subject: |service, when| format!("¿Todavía le interesa {service} el {when}?"),
    hold_released_body: |tenant, service, when| {
        format!("Hola:\n\nEl horario que tenía apartado en {tenant} ({service}, {when}) se liberó porque no se completó la reserva. Puede que siga libre: vuelva al chat para reservarlo o elegir otro horario.\n")
    },
    schedule_change_subject: |service, when| {
        format!("Por favor, elija un nuevo horario para su cita de {service} del {when}")
    },
    schedule_change_body: |name, tenant, service, when, reference, offer| {
        format!("Hola, {name}:\n\nLo sentimos: {tenant} ya no puede atenderle en su cita de {service} del {when} (código {reference}), porque ese día estaremos cerrados o su especialista no estará. Su reserva se mantiene hasta que elija un nuevo horario o la cancele.\n\n{offer}\n")
    },
    new_times: |times, link| {
        if link.is_empty() {
            format!("Horarios que le podemos ofrecer: {}. Responda o escríbanos en el chat con su código para cambiar su reserva.", end(times))
        } else {
            format!("Horarios que le podemos ofrecer: {}. Reserve uno en {link}", end(times))
        }
    },
    no_new_times: |link| {
        if link.is_empty() {
            "Responda o escríbanos en el chat con su código para encontrar un nuevo horario.".into()
        } else {
            format!("Encuentre un nuevo horario en {link}")
        }
    },
    waitlist_notice: |service, when| format!("Buenas noticias: se liberó un horario de {service} el {}.", end(when)),
    waitlist_subject: |service, when| format!("Se liberó un horario de {service}: {when}"),
    waitlist_body: |name, tenant, when, service, until| {
        format!("Hola, {name}:\n\nNos pidió que le avisáramos cuando se liberara un horario en {tenant}. El {when} ({service} hasta las {until}) ya está libre. Los horarios se ocupan rápido: vuelva al chat para reservarlo.\n")
    },
    about: |reason| format!(" sobre {reason}"),
    followup_subject: |tenant| format!("Seguimiento de {tenant}"),
    followup_body: |tenant, about| {
        format!("Hola:\n\nNos pidió en {tenant} que le contactáramos{about}. Con gusto le ayudamos a encontrar un horario: responda a este mensaje o vuelva al chat y le mostraremos lo que está disponible.\n")
    },
    confirm_needed_subject: |service, when| format!("Por favor, confirme su cita de {service} del {when}"),
    confirm_needed_body: |tenant, service, when, deadline, reference| {
        format!("Hola:\n\nPor favor, confirme antes del {deadline} que asistirá a su cita de {service} en {tenant} el {when} (código {reference}): responda C a nuestro mensaje de texto o contáctenos. Si para entonces no tenemos su confirmación, el horario se liberará para otros clientes.\n")
    },
    released_subject: |service, when, reference| {
        format!("Se liberó su cita de {service} del {when} ({reference})")
    },
    released_body: |name, service, tenant, when, reference| {
        format!("Hola, {name}:\n\nNo recibimos su confirmación a tiempo, así que su cita de {service} en {tenant} del {when} (código {reference}) se liberó para otros clientes. Puede reservar otro horario cuando guste.\n")
    },
    no_show_subject: |service, tenant| format!("Le esperábamos en su cita de {service} — {tenant}"),
    no_show_body: |name, service, tenant, when, options| {
        if options.is_empty() {
            format!("Hola, {name}:\n\nLe esperábamos en su cita de {service} en {tenant} del {}. Con gusto le atendemos en otro momento: vuelva al chat o responda a este correo para reservar.\n", end(when))
        } else {
            format!("Hola, {name}:\n\nLe esperábamos en su cita de {service} en {tenant} del {}. Con gusto le atendemos en otro momento. Estos horarios están disponibles ahora:\n{options}\nVuelva al chat o responda a este correo para reservar uno.\n", end(when))
        }
    },
    offer_page_title: "Tenemos un horario apartado para usted",
    offer_page_text: |tenant, service, when, until| {
        format!("{tenant} le tiene apartado un horario de {service} el {when} hasta las {}. Resérvelo con el botón de abajo; si ya no lo necesita, no haga nada y pasará a la siguiente persona de la lista de espera.", end(until))
    },
    offer_page_button: "Reservar este horario",
    offer_booked_title: "Su cita está reservada",
    offer_booked_text: |tenant, service, when, reference| {
        format!("Su cita de {service} en {tenant} el {when} está reservada. Su código de reserva es {reference}; le enviaremos una confirmación.")
    },
    offer_gone_title: "Esta oferta ya no está disponible",
    offer_expired_text: "El horario estuvo apartado por un tiempo limitado y pasó a la siguiente persona de la lista de espera. Todavía puede reservar otro horario con nosotros.",
    offer_closed_text: "Este horario ya no está apartado para usted. Todavía puede reservar otro horario con nosotros.",
    offer_unknown_text: "Este enlace no lleva a ninguna oferta. Por favor, verifique que abrió el enlace completo del mensaje.",
    waitlist_offer_body: |name, tenant, when, service, minutes, link| {
        format!("Hola, {name}:\n\nNos pidió que le avisáramos cuando se liberara un horario en {tenant}. El {when} ({service}) ya está libre y se lo apartamos por {minutes} minutos. Resérvelo aquí: {link}\n\nSi ya no lo necesita, no haga nada y pasará a la siguiente persona de la lista de espera.\n")
    },
    act_link: |link| format!("\nReserve, cambie o cancele en línea: {link}\n"),
    reminder_reply: "\nTambién puede responder a nuestro mensaje de texto: responda C para confirmar, R para cambiar o X para cancelar.\n",
};

const CLIENT_TIME: ClientTime = ClientTime {
    time_format: "%-I:%M %p",
    day_time_format: "%a %-d de %b, %-I:%M %p",
    beside: |clinic, client, zone| format!("{clinic} (su hora: {client} {zone})"),
    voice_clinic_time: |place| {
        format!("Los horarios que le doy son en la hora local de la clínica, hora de {place}.")
    },
    invite_when: |when| format!(" Cuándo: {}.", end(when)),
};

const HANDOFF: Handoff = Handoff {
    title: "Continuar en el chat",
    heading: "Retome la conversación donde la dejó",
    button: "Continuar en el chat",
    note: |ttl| {
        format!("Este enlace funciona una sola vez, dentro de los {} posteriores a su envío. Después de continuar, el chat quedará abierto en este navegador.", minutes(ttl))
    },
    doing_book: "Usted estaba reservando una cita",
    doing_reschedule: "Usted estaba cambiando una cita",
    doing_cancel: "Usted estaba cancelando una cita",
    doing_lookup: "Usted estaba consultando una cita",
    doing_talk: "Usted estaba hablando con nosotros",
    by_text: " por mensaje de texto",
    on_phone: " por teléfono",
    headline: |doing, details| {
        if details.is_empty() {
            format!("{doing}. Continúe en el chat y seguiremos desde ahí.")
        } else {
            format!("{doing}: {}. Continúe en el chat y seguiremos desde ahí.", end(&details.join(", ")))
        }
    },
    said_used: "Este enlace ya se usó. Por favor, llámenos de nuevo o inicie un chat nuevo.",
    said_expired: "Este enlace ha vencido. Por favor, llámenos de nuevo o inicie un chat nuevo.",
    said_invalid: "No pudimos verificar este enlace. Por favor, ábralo tal como se lo enviamos.",
    said_missing: "A este enlace le falta su código. Por favor, ábralo tal como se lo enviamos.",
    said_storage: "Este navegador no permite que nuestro sitio guarde datos (navegación privada, o cookies y datos de sitios desactivados), así que el chat no pudo quedar abierto aquí. Su enlace sigue sin usarse: permita los datos de este sitio o abra el enlace en una ventana normal, y luego toque “Continuar en el chat” otra vez.",
    said_storage_after: "Este navegador no nos permitió guardar la conversación, y el enlace ya se usó. Por favor, llámenos de nuevo o inicie un chat nuevo.",
    said_other: "No pudimos abrir su conversación en este momento. Por favor, vuelva a intentarlo en unos momentos.",
    missing_title: "Enlace incompleto",
    missing_text: "A este enlace le falta su código. Por favor, abra el enlace tal como se lo enviamos.",
    gone_title: "Este enlace ha vencido",
    gone_text: |ttl| {
        format!("Los enlaces de nuestros mensajes de texto funcionan una sola vez, durante {}. Por favor, llámenos de nuevo o inicie un chat nuevo en nuestro sitio web; solo toma un momento.", minutes(ttl))
    },
    invalid_title: "Este enlace no es válido",
    invalid_text: "No pudimos verificar este enlace. Por favor, abra el enlace tal como se lo enviamos.",
    failed_title: "Algo salió mal",
    failed_text: "No pudimos abrir su conversación en este momento. Por favor, vuelva a intentar abrir el enlace en unos momentos.",
};

/// `value` without its closing period ("10:30 a. m." → "10:30 a. m"), for a sentence that
/// puts its own after it.
fn end(value: &str) -> &str {
    value.strip_suffix('.').unwrap_or(value)
}

/// "1 minuto", "15 minutos".
fn minutes(n: i64) -> String {
    if n == 1 {
        "1 minuto".into()
    } else {
        format!("{n} minutos")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::en;
    use super::*;
    use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};

    /// Every fixed sentence and format of a table, by name.
    fn fixed(t: &Text) -> Vec<(&'static str, &'static str)> {
        vec![
            ("speech.day_format", t.speech.day_format),
            ("speech.time_format", t.speech.time_format),
            ("speech.day_time_format", t.speech.day_time_format),
            ("speech.email_dot", t.speech.email_dot),
            ("speech.email_at", t.speech.email_at),
            ("voice.not_set_up", t.voice.not_set_up),
            ("voice.lines_busy", t.voice.lines_busy),
            ("voice.how_can_i_help", t.voice.how_can_i_help),
            ("voice.lost_track", t.voice.lost_track),
            ("voice.one_moment", t.voice.one_moment),
            ("voice.call_ended", t.voice.call_ended),
            ("voice.say_again", t.voice.say_again),
            ("voice.time_limit_offer", t.voice.time_limit_offer),
            ("voice.goodbye", t.voice.goodbye),
            ("voice.trouble_offer", t.voice.trouble_offer),
            ("voice.heard_nothing", t.voice.heard_nothing),
            ("voice.didnt_catch", t.voice.didnt_catch),
            ("voice.declined_final_offer", t.voice.declined_final_offer),
            ("voice.couldnt_help", t.voice.couldnt_help),
            ("voice.yes_or_no_for_text", t.voice.yes_or_no_for_text),
            ("voice.intent_book", t.voice.intent_book),
            ("voice.intent_reschedule", t.voice.intent_reschedule),
            ("voice.intent_cancel", t.voice.intent_cancel),
            ("voice.intent_lookup", t.voice.intent_lookup),
            ("voice.cannot_text_number", t.voice.cannot_text_number),
            ("voice.handoff_opted_out", t.voice.handoff_opted_out),
            ("voice.handoff_rate_limited", t.voice.handoff_rate_limited),
            ("voice.handoff_failed", t.voice.handoff_failed),
            ("voice.ask_booking_email", t.voice.ask_booking_email),
            ("voice.ask_reference_spelled", t.voice.ask_reference_spelled),
            ("voice.help", t.voice.help),
            ("voice.thanks_goodbye", t.voice.thanks_goodbye),
            ("voice.day_passed", t.voice.day_passed),
            ("voice.nothing_booked", t.voice.nothing_booked),
            ("voice.pick_again", t.voice.pick_again),
            ("voice.name_again", t.voice.name_again),
            ("voice.booked_by_phone", t.voice.booked_by_phone),
            ("voice.what_else", t.voice.what_else),
            ("voice.great_day_goodbye", t.voice.great_day_goodbye),
            ("voice.ask_reference", t.voice.ask_reference),
            ("voice.booking_not_found", t.voice.booking_not_found),
            ("voice.appointment", t.voice.appointment),
            ("voice.move_to_which_day", t.voice.move_to_which_day),
            ("voice.sure_to_cancel", t.voice.sure_to_cancel),
            ("voice.cancelled", t.voice.cancelled),
            ("voice.booking_gone", t.voice.booking_gone),
            ("voice.left_as_is", t.voice.left_as_is),
            (
                "voice.no_longer_available_pick_day",
                t.voice.no_longer_available_pick_day,
            ),
            ("voice.unchanged", t.voice.unchanged),
            ("chat.start_question", t.chat.start_question),
            ("chat.help", t.chat.help),
            ("chat.already_texting", t.chat.already_texting),
            ("chat.goodbye", t.chat.goodbye),
            ("chat.vague_request", t.chat.vague_request),
            ("chat.slot_label_format", t.chat.slot_label_format),
            ("chat.slot_label_time_after", t.chat.slot_label_time_after),
            ("chat.followup_sla", t.chat.followup_sla),
            ("chat.ask_date", t.chat.ask_date),
            ("chat.which_date", t.chat.which_date),
            ("chat.ask_name", t.chat.ask_name),
            ("chat.ask_email", t.chat.ask_email),
            ("chat.your_appointment", t.chat.your_appointment),
            ("chat.shall_i_book", t.chat.shall_i_book),
            ("chat.ask_reference", t.chat.ask_reference),
            ("chat.ask_lookup_email", t.chat.ask_lookup_email),
            ("chat.ask_change_email", t.chat.ask_change_email),
            ("chat.sure_to_cancel", t.chat.sure_to_cancel),
            ("chat.which_new_time", t.chat.which_new_time),
            ("chat.offer_waitlist", t.chat.offer_waitlist),
            ("chat.ask_waitlist_email", t.chat.ask_waitlist_email),
            ("chat.nothing_booked", t.chat.nothing_booked),
            ("chat.booking_not_found", t.chat.booking_not_found),
            ("chat.left_as_is", t.chat.left_as_is),
            ("chat.an_appointment", t.chat.an_appointment),
            ("chat.your_email", t.chat.your_email),
            ("chat.tool_system_error", t.chat.tool_system_error),
            ("chat.already_cancelled", t.chat.already_cancelled),
            ("chat.handoff_welcome", t.chat.handoff_welcome),
            ("chat.handoff_welcome_end", t.chat.handoff_welcome_end),
            ("chat.handoff_day_format", t.chat.handoff_day_format),
            ("chat.system_issue", t.chat.system_issue),
            ("chat.unbacked_claim", t.chat.unbacked_claim),
            ("chat.no_calls", t.chat.no_calls),
            ("chat.say_another_way", t.chat.say_another_way),
            ("chat.status_checking", t.chat.status_checking),
            ("chat.status_holding", t.chat.status_holding),
            ("chat.status_confirming", t.chat.status_confirming),
            ("chat.status_followup", t.chat.status_followup),
            ("chat.status_working", t.chat.status_working),
            ("chat.no_prices", t.chat.no_prices),
            ("chat.which_to_book", t.chat.which_to_book),
            ("chat.offer_followup", t.chat.offer_followup),
            (
                "chat.followup_instead_of_call",
                t.chat.followup_instead_of_call,
            ),
            ("chat.ask_followup_email", t.chat.ask_followup_email),
            ("chat.channel_email", t.chat.channel_email),
            ("chat.channel_sms", t.chat.channel_sms),
            ("chat.followup_another", t.chat.followup_another),
            ("chat.followup_on_its_way", t.chat.followup_on_its_way),
            ("chat.followup_limit", t.chat.followup_limit),
            ("chat.followup_day_full", t.chat.followup_day_full),
            ("chat.followup_declined", t.chat.followup_declined),
            ("sms.when_format", t.sms.when_format),
            ("sms.appointment", t.sms.appointment),
            ("sms.intent_reschedule", t.sms.intent_reschedule),
            ("mail.when_format", t.mail.when_format),
            ("mail.time_format", t.mail.time_format),
            ("mail.default_sender", t.mail.default_sender),
            ("mail.there", t.mail.there),
            ("mail.appointment", t.mail.appointment),
            ("mail.confirmed", t.mail.confirmed),
            ("mail.rescheduled", t.mail.rescheduled),
            ("mail.lead_tomorrow", t.mail.lead_tomorrow),
            ("mail.lead_two_hours", t.mail.lead_two_hours),
            ("mail.offer_page_title", t.mail.offer_page_title),
            ("mail.offer_page_button", t.mail.offer_page_button),
            ("mail.offer_booked_title", t.mail.offer_booked_title),
            ("mail.offer_gone_title", t.mail.offer_gone_title),
            ("mail.offer_expired_text", t.mail.offer_expired_text),
            ("mail.offer_closed_text", t.mail.offer_closed_text),
            ("mail.offer_unknown_text", t.mail.offer_unknown_text),
            ("mail.reminder_reply", t.mail.reminder_reply),
            ("client_time.time_format", t.client_time.time_format),
            ("client_time.day_time_format", t.client_time.day_time_format),
            ("handoff.title", t.handoff.title),
            ("handoff.heading", t.handoff.heading),
            ("handoff.button", t.handoff.button),
            ("handoff.doing_book", t.handoff.doing_book),
            ("handoff.doing_reschedule", t.handoff.doing_reschedule),
            ("handoff.doing_cancel", t.handoff.doing_cancel),
            ("handoff.doing_lookup", t.handoff.doing_lookup),
            ("handoff.doing_talk", t.handoff.doing_talk),
            ("handoff.by_text", t.handoff.by_text),
            ("handoff.on_phone", t.handoff.on_phone),
            ("handoff.said_used", t.handoff.said_used),
            ("handoff.said_expired", t.handoff.said_expired),
            ("handoff.said_invalid", t.handoff.said_invalid),
            ("handoff.said_missing", t.handoff.said_missing),
            ("handoff.said_storage", t.handoff.said_storage),
            ("handoff.said_storage_after", t.handoff.said_storage_after),
            ("handoff.said_other", t.handoff.said_other),
            ("handoff.missing_title", t.handoff.missing_title),
            ("handoff.missing_text", t.handoff.missing_text),
            ("handoff.gone_title", t.handoff.gone_title),
            ("handoff.invalid_title", t.handoff.invalid_title),
            ("handoff.invalid_text", t.handoff.invalid_text),
            ("handoff.failed_title", t.handoff.failed_title),
            ("handoff.failed_text", t.handoff.failed_text),
        ]
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 3).unwrap()
    }

    fn time() -> NaiveTime {
        NaiveTime::from_hms_opt(14, 30, 0).unwrap()
    }

    fn list() -> Vec<String> {
        vec!["9:00".into(), "9:30".into(), "10:00".into()]
    }

    /// Every sentence with values of a table, by name, with the same sample values.
    fn rendered(t: &Text) -> Vec<(&'static str, String)> {
        vec![
            ("speech.choices", (t.speech.choices)(&list())),
            ("speech.times", (t.speech.times)(&list())),
            ("voice.greeting", (t.voice.greeting)("Clínica Sol")),
            ("voice.again", (t.voice.again)("mañana", "¿Qué día?")),
            ("voice.keep_going", (t.voice.keep_going)("¿Qué día?")),
            (
                "voice.handoff_sms",
                (t.voice.handoff_sms)("Clínica Sol", 15),
            ),
            ("voice.handoff_sent", (t.voice.handoff_sent)(15)),
            (
                "voice.which_service",
                (t.voice.which_service)("Consulta o Limpieza"),
            ),
            ("voice.which_day", (t.voice.which_day)("Consulta")),
            ("voice.beyond_lookahead", (t.voice.beyond_lookahead)(60)),
            ("voice.no_openings", (t.voice.no_openings)("martes")),
            (
                "voice.offer_times",
                (t.voice.offer_times)("martes", "9:00 a. m."),
            ),
            (
                "voice.exact_time_not_open",
                (t.voice.exact_time_not_open)("¿Qué día?"),
            ),
            (
                "voice.holding_to_move",
                (t.voice.holding_to_move)("martes 3 de marzo a las 10:30 a. m."),
            ),
            (
                "voice.holding_ask_name",
                (t.voice.holding_ask_name)("martes 3 de marzo a las 10:30 a. m."),
            ),
            ("voice.just_taken", (t.voice.just_taken)("¿Qué día?")),
            ("voice.closed_then", (t.voice.closed_then)("¿Qué día?")),
            ("voice.day_full", (t.voice.day_full)("¿Qué día?")),
            ("voice.ask_email", (t.voice.ask_email)("Ana")),
            (
                "voice.confirm",
                (t.voice.confirm)(
                    "Consulta",
                    "martes 3 de marzo a las 10:30 a. m.",
                    "Ana",
                    "ana@example.com",
                ),
            ),
            (
                "voice.booked",
                (t.voice.booked)(
                    "Consulta",
                    "martes 3 de marzo a las 10:30 a. m.",
                    "ABCD-EFGH",
                ),
            ),
            (
                "voice.no_longer_available",
                (t.voice.no_longer_available)("¿Qué día?"),
            ),
            (
                "voice.reference_thanks",
                (t.voice.reference_thanks)("ABCD-EFGH"),
            ),
            (
                "voice.your_booking",
                (t.voice.your_booking)("Consulta", "martes 3 de marzo a las 10:30 a. m."),
            ),
            (
                "voice.found_cancelled",
                (t.voice.found_cancelled)("Consulta el martes a las 9:00 a. m."),
            ),
            (
                "voice.found_to_cancel",
                (t.voice.found_to_cancel)("Consulta el martes a las 9:00 a. m."),
            ),
            (
                "voice.found_to_reschedule",
                (t.voice.found_to_reschedule)("Consulta el martes a las 9:00 a. m."),
            ),
            (
                "voice.found",
                (t.voice.found)("Consulta el martes a las 9:00 a. m."),
            ),
            (
                "voice.change_cutoff",
                (t.voice.change_cutoff)("faltan menos de 24 horas"),
            ),
            (
                "voice.moved",
                (t.voice.moved)("martes 3 de marzo a las 10:30 a. m.", "ABCD-EFGH"),
            ),
            ("chat.didnt_catch", (t.chat.didnt_catch)("¿Qué día?")),
            ("chat.numbered", (t.chat.numbered)(2, "9:30 a. m.")),
            ("chat.service_option", (t.chat.service_option)(2, "Ana", 15)),
            ("chat.which_service", (t.chat.which_service)(&list())),
            ("chat.confirm_far_date", (t.chat.confirm_far_date)(day())),
            ("chat.which_time", (t.chat.which_time)(&list())),
            (
                "chat.confirm_booking",
                (t.chat.confirm_booking)(
                    "Consulta",
                    "martes 3 de marzo a las 10:30 a. m.",
                    "Ana",
                    "ana@example.com",
                ),
            ),
            (
                "chat.confirm_move",
                (t.chat.confirm_move)("martes 3 de marzo a las 10:30 a. m."),
            ),
            ("chat.no_problem", (t.chat.no_problem)("¿Qué día?")),
            ("chat.date_passed", (t.chat.date_passed)("¿Qué día?")),
            (
                "chat.beyond_lookahead",
                (t.chat.beyond_lookahead)(60, day(), "¿Qué día?"),
            ),
            (
                "chat.no_openings_waitlist",
                (t.chat.no_openings_waitlist)("Consulta", day(), day()),
            ),
            (
                "chat.offer_times",
                (t.chat.offer_times)(Some(day()), "Consulta", Some(day()), &list()),
            ),
            (
                "chat.not_an_open_time",
                (t.chat.not_an_open_time)(time(), "¿Qué día?"),
            ),
            (
                "chat.holding",
                (t.chat.holding)("martes 3 de marzo a las 10:30 a. m.", "¿Qué día?"),
            ),
            ("chat.just_taken", (t.chat.just_taken)("¿Otro día?")),
            ("chat.closed_then", (t.chat.closed_then)("¿Otro día?")),
            ("chat.day_full", (t.chat.day_full)("¿Otro día?")),
            ("chat.hold_inactive", (t.chat.hold_inactive)("¿Qué día?")),
            (
                "chat.booked",
                (t.chat.booked)(
                    "Consulta",
                    "martes 3 de marzo a las 10:30 a. m.",
                    "ABCD-EFGH",
                ),
            ),
            ("chat.hold_expired", (t.chat.hold_expired)("¿Otro día?")),
            (
                "chat.booked_by_someone_else",
                (t.chat.booked_by_someone_else)("¿Otro día?"),
            ),
            (
                "chat.shows_cancelled",
                (t.chat.shows_cancelled)(
                    "ABCD-EFGH",
                    "Consulta",
                    "martes 3 de marzo a las 10:30 a. m.",
                ),
            ),
            (
                "chat.found_to_cancel",
                (t.chat.found_to_cancel)(
                    "Consulta",
                    "martes 3 de marzo a las 10:30 a. m.",
                    "ABCD-EFGH",
                ),
            ),
            (
                "chat.found_to_reschedule",
                (t.chat.found_to_reschedule)(
                    "Consulta",
                    "martes 3 de marzo a las 10:30 a. m.",
                    "ABCD-EFGH",
                ),
            ),
            (
                "chat.found",
                (t.chat.found)(
                    "Consulta",
                    "martes 3 de marzo a las 10:30 a. m.",
                    "ABCD-EFGH",
                    "confirmada",
                ),
            ),
            (
                "chat.cancelled",
                (t.chat.cancelled)("ABCD-EFGH", "martes 3 de marzo a las 10:30 a. m."),
            ),
            (
                "chat.nothing_changed",
                (t.chat.nothing_changed)("¿Qué día?"),
            ),
            (
                "chat.rescheduled",
                (t.chat.rescheduled)("martes 3 de marzo a las 10:30 a. m.", "ABCD-EFGH"),
            ),
            ("chat.okay", (t.chat.okay)("¿Qué día?")),
            (
                "chat.on_waitlist",
                (t.chat.on_waitlist)("Consulta", "ana@example.com"),
            ),
            ("chat.left_waitlist", (t.chat.left_waitlist)(1)),
            ("chat.too_far_ahead", (t.chat.too_far_ahead)("¿Qué día?")),
            (
                "chat.change_cutoff",
                (t.chat.change_cutoff)("faltan menos de 24 horas"),
            ),
            (
                "chat.didnt_work",
                (t.chat.didnt_work)("sin conexión", "¿Qué día?"),
            ),
            (
                "chat.note_saved",
                (t.chat.note_saved)("alergia", "¿Qué día?"),
            ),
            ("chat.note_kept", (t.chat.note_kept)("alergia")),
            ("chat.note_line", (t.chat.note_line)("alergia")),
            (
                "chat.services_list",
                (t.chat.services_list)(&list(), "¿Cuál?"),
            ),
            (
                "chat.service_line",
                (t.chat.service_line)("Ana", 15, "revisión"),
            ),
            (
                "chat.followup_scheduled",
                (t.chat.followup_scheduled)("correo", "martes 3 de marzo a las 10:30 a. m."),
            ),
            ("sms.opted_in", (t.sms.opted_in)("Clínica Sol")),
            ("sms.help", (t.sms.help)("Clínica Sol")),
            ("sms.unknown_sender", (t.sms.unknown_sender)("Clínica Sol")),
            ("sms.no_booking", (t.sms.no_booking)("Clínica Sol")),
            (
                "sms.booking",
                (t.sms.booking)("Consulta", "martes 3 de marzo a las 10:30 a. m."),
            ),
            (
                "sms.attendance_confirmed",
                (t.sms.attendance_confirmed)(
                    "Clínica Sol",
                    "Consulta el martes a las 9:00 a. m.",
                    "ABCD-EFGH",
                ),
            ),
            ("sms.cancel_failed", (t.sms.cancel_failed)("Clínica Sol")),
            (
                "sms.change_cutoff",
                (t.sms.change_cutoff)("Clínica Sol", "faltan menos de 24 horas"),
            ),
            (
                "sms.cancelled",
                (t.sms.cancelled)("Clínica Sol", "Consulta el martes a las 9:00 a. m."),
            ),
            ("sms.not_found", (t.sms.not_found)("Clínica Sol")),
            (
                "sms.confirm_cancel",
                (t.sms.confirm_cancel)(
                    "Clínica Sol",
                    15,
                    "Consulta el martes a las 9:00 a. m.",
                    "ABCD-EFGH",
                ),
            ),
            (
                "sms.unrecognised",
                (t.sms.unrecognised)("Clínica Sol", "Consulta el martes a las 9:00 a. m."),
            ),
            (
                "sms.reschedule_link",
                (t.sms.reschedule_link)("Clínica Sol", "Consulta", 15, "https://example.com/r"),
            ),
            ("sms.link_failed", (t.sms.link_failed)("Clínica Sol")),
            ("sms.opt_out_tail", (t.sms.opt_out_tail)(Some("ABCD-EFGH"))),
            ("sms.from_subject", (t.sms.from_subject)("Recordatorio")),
            (
                "sms.hold_released",
                (t.sms.hold_released)("Clínica Sol", "martes 3 de marzo a las 10:30 a. m."),
            ),
            (
                "sms.schedule_change",
                (t.sms.schedule_change)(
                    "Clínica Sol",
                    "Consulta el martes a las 9:00 a. m.",
                    "¿Otro día?",
                ),
            ),
            (
                "sms.waitlist_match",
                (t.sms.waitlist_match)(
                    "Clínica Sol",
                    "Consulta",
                    "martes 3 de marzo a las 10:30 a. m.",
                ),
            ),
            (
                "sms.contact_followup",
                (t.sms.contact_followup)("Clínica Sol", " sobre precios"),
            ),
            (
                "sms.confirm_needed",
                (t.sms.confirm_needed)(
                    "Clínica Sol",
                    "Consulta",
                    "martes 3 de marzo a las 10:30 a. m.",
                    "lunes 2 de marzo",
                ),
            ),
            (
                "sms.no_show_followup",
                (t.sms.no_show_followup)("Clínica Sol", "Consulta", "9:00 a. m."),
            ),
            (
                "sms.waitlist_offer",
                (t.sms.waitlist_offer)(
                    "Clínica Sol",
                    "Consulta",
                    "martes 3 de marzo a las 10:30 a. m.",
                    15,
                ),
            ),
            (
                "sms.waitlist_booked",
                (t.sms.waitlist_booked)(
                    "Clínica Sol",
                    "Consulta el martes a las 9:00 a. m.",
                    "ABCD-EFGH",
                ),
            ),
            (
                "sms.waitlist_no_offer",
                (t.sms.waitlist_no_offer)("Clínica Sol"),
            ),
            (
                "sms.waitlist_offer_gone",
                (t.sms.waitlist_offer_gone)("Clínica Sol"),
            ),
            ("sms.waitlist_left", (t.sms.waitlist_left)("Clínica Sol", 1)),
            (
                "sms.reminder",
                (t.sms.reminder)(
                    "Clínica Sol",
                    "Consulta",
                    "mañana",
                    "martes 3 de marzo a las 10:30 a. m.",
                    "https://example.com/r",
                ),
            ),
            (
                "sms.with_link",
                (t.sms.with_link)("Hola", "https://example.com/r"),
            ),
            (
                "mail.default_subject",
                (t.mail.default_subject)("Clínica Sol"),
            ),
            ("mail.signed", (t.mail.signed)("Hola", "Clínica Sol")),
            ("mail.sent_by", (t.mail.sent_by)("Clínica Sol")),
            (
                "mail.calendar_summary",
                (t.mail.calendar_summary)("Consulta", "ABCD-EFGH"),
            ),
            (
                "mail.invite_summary",
                (t.mail.invite_summary)("Consulta", "Clínica Sol"),
            ),
            (
                "mail.invite_description",
                (t.mail.invite_description)("Consulta", "Clínica Sol", "ABCD-EFGH"),
            ),
            (
                "mail.confirmation_subject",
                (t.mail.confirmation_subject)(
                    "Consulta",
                    "confirmada",
                    "martes 3 de marzo a las 10:30 a. m.",
                    "ABCD-EFGH",
                ),
            ),
            (
                "mail.confirmation_body",
                (t.mail.confirmation_body)(
                    "Ana",
                    "Consulta",
                    "Clínica Sol",
                    "confirmada",
                    "martes 3 de marzo a las 10:30 a. m.",
                    "ABCD-EFGH",
                ),
            ),
            (
                "mail.cancellation_subject",
                (t.mail.cancellation_subject)(
                    "Consulta",
                    "martes 3 de marzo a las 10:30 a. m.",
                    "ABCD-EFGH",
                ),
            ),
            (
                "mail.cancellation_body",
                (t.mail.cancellation_body)(
                    "Ana",
                    "Consulta",
                    "Clínica Sol",
                    "martes 3 de marzo a las 10:30 a. m.",
                    "ABCD-EFGH",
                ),
            ),
            (
                "mail.reminder_subject",
                (t.mail.reminder_subject)(
                    "Consulta",
                    "mañana",
                    "martes 3 de marzo a las 10:30 a. m.",
                ),
            ),
            (
                "mail.reminder_body",
                (t.mail.reminder_body)(
                    "Ana",
                    "Consulta",
                    "Clínica Sol",
                    "mañana",
                    "martes 3 de marzo a las 10:30 a. m.",
                    "ABCD-EFGH",
                ),
            ),
            ("mail.on_calendar", (t.mail.on_calendar)("ABCD-EFGH")),
            (
                "mail.escalation_subject",
                (t.mail.escalation_subject)(
                    "Consulta",
                    "martes 3 de marzo a las 10:30 a. m.",
                    "ABCD-EFGH",
                ),
            ),
            (
                "mail.escalation_body",
                (t.mail.escalation_body)(
                    "Ana",
                    "Consulta",
                    "Clínica Sol",
                    "martes 3 de marzo a las 10:30 a. m.",
                    "ABCD-EFGH",
                ),
            ),
            (
                "mail.escalation_admin_subject",
                (t.mail.escalation_admin_subject)("ABCD-EFGH"),
            ),
            (
                "mail.escalation_admin_body",
                (t.mail.escalation_admin_body)(
                    "ABCD-EFGH",
                    "Consulta",
                    "martes 3 de marzo a las 10:30 a. m.",
                    3,
                ),
            ),
            (
                "mail.calendar_revoked_subject",
                (t.mail.calendar_revoked_subject)("Sala 1"),
            ),
            (
                "mail.calendar_revoked_body",
                (t.mail.calendar_revoked_body)("Sala 1", "Google", "sin conexión"),
            ),
            (
                "mail.calendar_drift_subject",
                (t.mail.calendar_drift_subject)("ABCD-EFGH"),
            ),
            (
                "mail.calendar_drift_body",
                (t.mail.calendar_drift_body)("ABCD-EFGH", "Sala 1", "missing"),
            ),
            (
                "mail.hold_released_subject",
                (t.mail.hold_released_subject)("Consulta", "martes 3 de marzo a las 10:30 a. m."),
            ),
            (
                "mail.hold_released_body",
                (t.mail.hold_released_body)(
                    "Clínica Sol",
                    "Consulta",
                    "martes 3 de marzo a las 10:30 a. m.",
                ),
            ),
            (
                "mail.schedule_change_subject",
                (t.mail.schedule_change_subject)("Consulta", "martes 3 de marzo a las 10:30 a. m."),
            ),
            (
                "mail.schedule_change_body",
                (t.mail.schedule_change_body)(
                    "Ana",
                    "Clínica Sol",
                    "Consulta",
                    "martes 3 de marzo a las 10:30 a. m.",
                    "ABCD-EFGH",
                    "¿Otro día?",
                ),
            ),
            (
                "mail.new_times",
                (t.mail.new_times)("9:00 a. m.", "https://example.com/r"),
            ),
            (
                "mail.no_new_times",
                (t.mail.no_new_times)("https://example.com/r"),
            ),
            (
                "mail.waitlist_notice",
                (t.mail.waitlist_notice)("Consulta", "martes 3 de marzo a las 10:30 a. m."),
            ),
            (
                "mail.waitlist_subject",
                (t.mail.waitlist_subject)("Consulta", "martes 3 de marzo a las 10:30 a. m."),
            ),
            (
                "mail.waitlist_body",
                (t.mail.waitlist_body)(
                    "Ana",
                    "Clínica Sol",
                    "martes 3 de marzo a las 10:30 a. m.",
                    "Consulta",
                    "11:00 a. m.",
                ),
            ),
            ("mail.about", (t.mail.about)("precios")),
            (
                "mail.followup_subject",
                (t.mail.followup_subject)("Clínica Sol"),
            ),
            (
                "mail.followup_body",
                (t.mail.followup_body)("Clínica Sol", " sobre precios"),
            ),
            (
                "mail.confirm_needed_subject",
                (t.mail.confirm_needed_subject)("Consulta", "martes 3 de marzo a las 10:30 a. m."),
            ),
            (
                "mail.confirm_needed_body",
                (t.mail.confirm_needed_body)(
                    "Clínica Sol",
                    "Consulta",
                    "martes 3 de marzo a las 10:30 a. m.",
                    "lunes 2 de marzo",
                    "ABCD-EFGH",
                ),
            ),
            (
                "mail.released_subject",
                (t.mail.released_subject)(
                    "Consulta",
                    "martes 3 de marzo a las 10:30 a. m.",
                    "ABCD-EFGH",
                ),
            ),
            (
                "mail.released_body",
                (t.mail.released_body)(
                    "Ana",
                    "Consulta",
                    "Clínica Sol",
                    "martes 3 de marzo a las 10:30 a. m.",
                    "ABCD-EFGH",
                ),
            ),
            (
                "mail.no_show_subject",
                (t.mail.no_show_subject)("Consulta", "Clínica Sol"),
            ),
            (
                "mail.no_show_body",
                (t.mail.no_show_body)(
                    "Ana",
                    "Consulta",
                    "Clínica Sol",
                    "martes 3 de marzo a las 10:30 a. m.",
                    "9:00 a. m.",
                ),
            ),
            (
                "mail.offer_page_text",
                (t.mail.offer_page_text)(
                    "Clínica Sol",
                    "Consulta",
                    "martes 3 de marzo a las 10:30 a. m.",
                    "11:00 a. m.",
                ),
            ),
            (
                "mail.offer_booked_text",
                (t.mail.offer_booked_text)(
                    "Clínica Sol",
                    "Consulta",
                    "martes 3 de marzo a las 10:30 a. m.",
                    "ABCD-EFGH",
                ),
            ),
            (
                "mail.waitlist_offer_body",
                (t.mail.waitlist_offer_body)(
                    "Ana",
                    "Clínica Sol",
                    "martes 3 de marzo a las 10:30 a. m.",
                    "Consulta",
                    15,
                    "https://example.com/r",
                ),
            ),
            ("mail.act_link", (t.mail.act_link)("https://example.com/r")),
            (
                "client_time.beside",
                (t.client_time.beside)("mar 3 de mar, 10:00 a. m.", "4:00 p. m.", "Europe/Madrid"),
            ),
            (
                "client_time.voice_clinic_time",
                (t.client_time.voice_clinic_time)("Nueva York"),
            ),
            (
                "client_time.invite_when",
                (t.client_time.invite_when)("martes 3 de marzo a las 10:30 a. m."),
            ),
            ("handoff.note", (t.handoff.note)(15)),
            (
                "handoff.headline",
                (t.handoff.headline)(
                    t.handoff.doing_book,
                    &["Consulta".into(), "martes 3 de marzo".into()],
                ),
            ),
            (
                "handoff.headline_alone",
                (t.handoff.headline)(t.handoff.doing_talk, &[]),
            ),
            ("handoff.gone_text", (t.handoff.gone_text)(15)),
        ]
    }

    /// Entries that read the same in both languages: the product's name, the time of day
    /// (its "a. m." / "p. m." comes from the locale), and shapes with no words of their own.
    const SAME: [&str; 12] = [
        "speech.time_format",
        "mail.time_format",
        "mail.default_sender",
        "client_time.time_format",
        "voice.again",
        "chat.numbered",
        "chat.service_option",
        "chat.service_line",
        "sms.from_subject",
        "sms.with_link",
        "mail.signed",
        "mail.calendar_summary",
    ];

    /// Words of the English table that no Spanish sentence has.
    const ENGLISH: [&str; 16] = [
        " the ",
        " your ",
        " you ",
        "you'",
        "appointment",
        "please",
        " and ",
        " with ",
        "booking",
        " time",
        " is ",
        "reply ",
        "thank",
        "sorry",
        " at ",
        " on ",
    ];

    #[test]
    fn every_spanish_sentence_is_translated() {
        let (en, es) = (fixed(&en::TEXT), fixed(&TEXT));
        assert_eq!(en.len(), 147);
        for ((name, en), (_, es)) in en.iter().zip(&es) {
            if !SAME.contains(name) {
                assert_ne!(en, es, "{name} is not translated");
            }
            let lower = es.to_lowercase();
            for word in ENGLISH {
                assert!(!lower.contains(word), "{name} has {word:?}: {es}");
            }
        }
        let (en, es) = (rendered(&en::TEXT), rendered(&TEXT));
        assert_eq!(en.len(), 150);
        for ((name, en), (_, es)) in en.iter().zip(&es) {
            if !SAME.contains(name) {
                assert_ne!(en, es, "{name} is not translated");
            }
            let lower = es.to_lowercase();
            for word in ENGLISH {
                assert!(!lower.contains(word), "{name} has {word:?}: {es}");
            }
            // A value ending in "a. m." takes no second period.
            assert!(!es.contains(".."), "{name} doubles a period: {es}");
        }
    }

    #[test]
    fn spanish_sentences_render_their_values() {
        let t = &TEXT;
        let names: Vec<String> = ["Consulta", "Limpieza", "Corte"].map(String::from).into();
        assert_eq!((t.speech.choices)(&names), "Consulta, Limpieza o Corte");
        assert_eq!((t.speech.times)(&names[..2]), "Consulta o Limpieza");
        assert_eq!(
            (t.voice.handoff_sms)("Clínica Sol", 15),
            "Clínica Sol: continúe su reserva en nuestro chat (enlace válido 15 minutos, un solo uso):"
        );
        assert_eq!(
            (t.chat.confirm_far_date)(day()),
            "Para confirmar, ¿se refiere al martes 3 de marzo de 2026? (sí/no)"
        );
        assert_eq!(
            (t.chat.not_an_open_time)(time(), "¿Qué hora?"),
            "2:30 p. m. no es uno de los horarios disponibles. ¿Qué hora?"
        );
        assert_eq!(
            (t.chat.offer_times)(None, "Consulta", Some(day()), &names[..2]),
            "Estos son los horarios disponibles para Consulta el martes 3 de marzo: Consulta, Limpieza. ¿Cuál prefiere?"
        );
        assert_eq!(
            (t.sms.waitlist_offer)("Clínica Sol", "Consulta", "mar 3 de mar, 2:30 p. m.", 30),
            "Clínica Sol: se liberó un horario de Consulta el mar 3 de mar, 2:30 p. m. y se lo apartamos por 30 min. Responda RESERVAR para tomarlo o SALIR para salir de la lista de espera."
        );
        assert_eq!(
            (t.sms.opt_out_tail)(Some("ABCD-EFGH")),
            "código ABCD-EFGH. Responda PARAR para darse de baja."
        );
        assert_eq!(
            (t.mail.confirmation_subject)(
                "Consulta",
                t.mail.confirmed,
                "martes 3 de marzo a las 10:30 a. m.",
                "ABCD-EFGH"
            ),
            "Su cita de Consulta está confirmada: martes 3 de marzo a las 10:30 a. m. (ABCD-EFGH)"
        );
        // The period of "p. m." closes the sentence too.
        assert_eq!(
            (t.sms.reminder)("Clínica Sol", "Consulta", t.mail.lead_tomorrow, "mar 3 de mar, 2:30 p. m.", ""),
            "Clínica Sol: recordatorio, su cita de Consulta es mañana, mar 3 de mar, 2:30 p. m. Responda C para confirmar, R para cambiar o X para cancelar."
        );
        assert_eq!(
            (t.chat.booked)("Consulta", "mar 3 de mar, 2:30 p. m.", "ABCD-EFGH"),
            "Listo, su cita está confirmada: Consulta el mar 3 de mar, 2:30 p. m. Su código de reserva es ABCD-EFGH. Guárdelo junto con su correo electrónico para consultar, cambiar o cancelar la cita."
        );
    }

    #[test]
    fn spanish_formats_read_as_spanish() {
        let t = &TEXT;
        let at = Utc
            .with_ymd_and_hms(2026, 3, 3, 19, 30, 0)
            .unwrap()
            .with_timezone(&chrono_tz::America::New_York);
        let es = Locale::Es;
        assert_eq!(es.at(&at, t.speech.day_format), "martes 3 de marzo");
        assert_eq!(
            es.at(&at, t.speech.day_time_format),
            "martes 3 de marzo a las 2:30 p. m."
        );
        assert_eq!(
            es.at(&at, t.chat.slot_label_format),
            "mar 3 de mar, 2:30 p. m."
        );
        assert_eq!(es.at(&at, t.sms.when_format), "mar 3 de mar, 2:30 p. m.");
        assert_eq!(
            es.at(&at, t.mail.when_format),
            "martes 3 de marzo a las 2:30 p. m. EST"
        );
        // A list of one day's times shows what follows `slot_label_time_after`: the time.
        let label = es.at(&at, t.chat.slot_label_format);
        assert_eq!(
            label.rsplit(t.chat.slot_label_time_after).next(),
            Some("2:30 p. m.")
        );
        assert_eq!(es.at(&at, t.chat.handoff_day_format), "martes 3 de marzo");
        assert_eq!(
            es.at(&at, t.client_time.day_time_format),
            "mar 3 de mar, 2:30 p. m."
        );
        assert_eq!(t.speech.email_at, " arroba ");
        assert_eq!(t.speech.email_dot, " punto ");
    }
}
