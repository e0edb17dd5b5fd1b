//! English.

use super::{Chat, ClientTime, Handoff, Mail, Sms, Speech, Text, Voice};

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
    day_format: "%A, %B %-d",
    time_format: "%-I:%M %p",
    day_time_format: "%A, %B %-d at %-I:%M %p",
    email_dot: " dot ",
    email_at: " at ",
    choices: |names| match names {
        [] => String::new(),
        [one] => one.clone(),
        [first @ .., last] => format!("{}, or {}", first.join(", "), last),
    },
    times: |times| match times {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} or {b}"),
        [a, b, c, ..] => format!("{a}, {b}, or {c}"),
    },
};

const VOICE: Voice = Voice {
    not_set_up:
        "Sorry, this number is not set up to take calls yet. Please try again later. Goodbye.",
    lines_busy: "Sorry, all of our lines are busy right now. Please call back in a few minutes, or visit our website to book online. Goodbye.",
    how_can_i_help: "How can I help you today?",
    lost_track: "Sorry, I lost track of this call. Please call again. Goodbye.",
    one_moment: "Sorry, one moment please. Could you say that again?",
    call_ended: "This call has ended. Thank you for calling. Goodbye.",
    say_again: "Sorry, could you say that again?",
    greeting: |tenant| format!("Thank you for calling {tenant}. I can book, reschedule or cancel an appointment, or look one up. How can I help you today?"),
    time_limit_offer: "We've reached the time limit for a phone booking. Would you like me to text you a link so you can finish in our online chat?",
    goodbye: "Goodbye.",
    trouble_offer: "I'm sorry, I'm having trouble understanding. Would you like me to text you a link so you can continue in our online chat?",
    heard_nothing: "Sorry, I didn't hear anything.",
    didnt_catch: "Sorry, I didn't catch that.",
    again: |lead, question| format!("{lead} {question}"),
    declined_final_offer: "No problem. Thank you for calling, and have a great day. Goodbye.",
    keep_going: |question| format!("Okay, let's keep going. {question}"),
    couldnt_help: "I'm sorry I couldn't help over the phone. Please visit our website to book online. Goodbye.",
    yes_or_no_for_text:
        "Please say yes if you'd like the text message, or no to continue on the phone.",
    intent_book: "book an appointment",
    intent_reschedule: "reschedule an appointment",
    intent_cancel: "cancel an appointment",
    intent_lookup: "look up an appointment",
    cannot_text_number: "I'm sorry, I can't send a text message to this number. Please visit our website to continue online. Goodbye.",
    handoff_sms: |tenant, ttl| {
        format!("{tenant}: continue your booking in our chat (link valid {}, one use):", minutes(ttl))
    },
    handoff_sent: |ttl| {
        format!("I've sent you a text message with a link. It opens our online chat right where we left off, and works once within the next {}. Thank you for calling. Goodbye.", minutes(ttl))
    },
    handoff_opted_out: "This number has opted out of our text messages, so I can't send a link. Reply START to our number to opt back in, or visit our website. Goodbye.",
    handoff_rate_limited: "I've already sent several text messages to this number, so I can't send another right now. Please check your recent messages, or visit our website. Goodbye.",
    handoff_failed: "I'm sorry, I couldn't send the text message. Please visit our website to continue online. Goodbye.",
    ask_booking_email: "Thanks. And what is the email address on the booking?",
    ask_reference_spelled:
        "Sure. What is your booking reference code? You can spell it out, letter by letter.",
    help: "I can book a new appointment, reschedule or cancel one, or look up an existing booking. I can also text you a link to our online chat. What would you like to do?",
    thanks_goodbye: "Thank you for calling. Goodbye.",
    which_service: |choices| format!("Which service would you like: {choices}?"),
    which_day: |service| format!("Great, a {service}. What day would you like to come in?"),
    day_passed: "That day has already passed. What other day would suit you?",
    beyond_lookahead: |max_days_ahead| {
        format!("I can only book up to {max_days_ahead} days ahead. What earlier day would work?")
    },
    no_openings: |day| {
        format!("I'm sorry, there are no openings on {day}. What other day would work for you?")
    },
    offer_times: |day, times| format!("On {day} I have {times}. Which time would you like?"),
    exact_time_not_open: |question| format!("That exact time isn't open. {question}"),
    holding_to_move: |when| {
        format!("I'm holding {when}. Shall I move your appointment to that time?")
    },
    holding_ask_name: |when| {
        format!("I'm holding {when} for you. May I have your first and last name?")
    },
    just_taken: |question| format!("Sorry, that time was just taken. {question}"),
    closed_then: |question| format!("Sorry, we are closed at that time, or that staff member is away. {question}"),
    day_full: |question| format!("Sorry, that day is fully booked. {question}"),
    ask_email: |name| format!("Thank you, {name}. What email address should we send the confirmation to? For example, jane dot doe at gmail dot com."),
    confirm: |service, when, name, email| format!("Let me confirm: a {service} on {when}, for {name}, with confirmation sent to {email}. Shall I book it?"),
    nothing_booked: "No problem, nothing is booked. What day would you like instead?",
    pick_again: "Let's pick a time again. What day would you like?",
    name_again: "May I have your first and last name again?",
    booked_by_phone: "booked by phone",
    booked: |service, when, reference| format!("You're all set. Your {service} is booked for {when}. Your reference code is {reference}. A confirmation will be sent to your email. Is there anything else I can help you with?"),
    no_longer_available: |question| {
        format!("I'm sorry, that time is no longer available. {question}")
    },
    what_else: "Sure. What else can I do for you?",
    great_day_goodbye: "Thank you for calling. Have a great day. Goodbye.",
    reference_thanks: |reference| {
        format!("Thanks, {reference}. And what is the email address on the booking?")
    },
    ask_reference: "What is your booking reference code?",
    booking_not_found: "I couldn't find a booking with that reference code and email. Could you tell me the reference code again?",
    your_booking: |service, when| format!("your {service} on {when}"),
    appointment: "appointment",
    found_cancelled: |booking| format!("I found {booking}, but it has been cancelled. Is there anything else I can help with?"),
    found_to_cancel: |booking| format!("I found {booking}. Are you sure you want to cancel it?"),
    found_to_reschedule: |booking| {
        format!("I found {booking}. What day would you like to move it to?")
    },
    found: |booking| {
        format!("I found {booking}. Would you like to reschedule or cancel it, or is that all?")
    },
    move_to_which_day: "What day would you like to move it to?",
    sure_to_cancel: "Are you sure you want to cancel it?",
    change_cutoff: |why| format!("Sorry, I can't change that booking by phone now: {why}. Goodbye."),
    cancelled: "Your appointment is cancelled. Is there anything else I can help you with?",
    booking_gone: "I couldn't find that booking any more. What is the reference code?",
    left_as_is: "Okay, I've left your appointment as it is. Is there anything else I can help you with?",
    moved: |when, reference| format!("Done. Your appointment is now on {when}, and your reference code stays {reference}. Is there anything else I can help you with?"),
    no_longer_available_pick_day:
        "I'm sorry, that time is no longer available. What day would you like instead?",
    unchanged: "No problem, your appointment is unchanged. What other day would you like?",
    connecting: "Connecting you to a person now. Please hold.",
    connecting_after_trouble:
        "I'm sorry I couldn't understand. Connecting you to a person now. Please hold.",
    connecting_time_limit:
        "We've reached this call's time limit. Connecting you to a person now. Please hold.",
    transfer_done: "Thank you for calling. Goodbye.",
    voicemail_prompt: "Nobody can take your call right now. Please leave your name, your number and a short message after the tone. Press the pound key or hang up when you're done.",
    voicemail_no_transfer: "Nobody is available to take calls on this line, but you can leave a message for the staff. Please leave your name, your number and a short message after the tone. Press the pound key or hang up when you're done.",
    voicemail_nothing: "I didn't get a message. Please call again any time. Goodbye.",
    voicemail_saved: "Thank you. Your message has been passed on to the staff. Goodbye.",
    why_asked: "asked for a person",
    why_misunderstood: "the receptionist could not understand them",
    why_time_limit: "the call reached its time limit",
    unknown_caller: "an unknown number",
    handover_date_format: "%A, %B %-d",
    handover_sms: |c| {
        let mut s = format!("{}: call from {} transferred to you ({}).", c.tenant, c.caller, c.why);
        if let Some(w) = c.wants {
            s.push_str(&format!(" Wants to {w}."));
        }
        if let Some(x) = c.service {
            s.push_str(&format!(" Service: {x}."));
        }
        if let Some(x) = c.day {
            s.push_str(&format!(" Day: {x}."));
        }
        if let Some(x) = c.name {
            s.push_str(&format!(" Name: {x}."));
        }
        s
    },
    voicemail_email_subject: |tenant, caller| format!("{tenant}: new voicemail from {caller}"),
    voicemail_email_body: |m| {
        let mut s = format!(
            "A caller left a voicemail for {}.\n\nCaller: {}\nWhy: {}\n",
            m.tenant, m.caller, m.why
        );
        if let Some(n) = m.seconds {
            s.push_str(&format!("Length: {n} seconds\n"));
        }
        s.push_str(&format!("Recording: {}\n", m.recording_url));
        match m.transcription {
            Some(t) => s.push_str(&format!("\nTranscription:\n{t}\n")),
            None => s.push_str("\nThe admin page lists the message with its transcription once it is ready.\n"),
        }
        s
    },
    voicemail_sms: |tenant, caller, url| format!("{tenant}: new voicemail from {caller}. Listen: {url}"),
    language_offer: |key| format!("For English, press {key} or say English."),
    intent_keys: |first| {
        format!(
            "You can also press {} to book, {} to reschedule, {} to cancel, or {} to look up a booking.",
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
            .map(|(i, x)| format!("{} for {x}", i + 1))
            .collect();
        match keyed.as_slice() {
            [] => String::new(),
            [one] => format!("Press {one}."),
            [first @ .., last] => format!("Press {}, or {last}.", first.join(", ")),
        }
    },
    date_keys: "Or enter the month and day as four digits, like 0 3 1 5 for March 15.",
    time_keys: "Or enter another time as four digits in 24-hour form, like 1 4 3 0 for 2:30 PM, or press 0 for another day.",
    yes_no_keys: "Press 1 for yes, 2 for no.",
    found_keys: "Press 1 to reschedule, 2 to cancel, or 3 if that's all.",
    name_or_keypad: "If you'd rather use the keypad only, press 9 and I'll text a code to this phone.",
    reference_or_keypad: "Or press 9 to find your bookings by this phone number, with a code I'll text you.",
    code_sms: |tenant, code, ttl| {
        format!("{tenant}: your phone code is {code}. It works for {}. Never share it.", minutes(ttl))
    },
    code_sent: "I've texted a 6-digit code to this phone. Please enter it on your keypad, then press pound.",
    code_wrong: "That code isn't right. Please enter the 6-digit code again.",
    code_expired_resent: "That code has expired, so I've texted you a new one. Please enter it.",
    code_failed: "I'm sorry, I couldn't verify this phone. Please call again later, or visit our website. Goodbye.",
    code_not_sent: |question| format!("I'm sorry, I can't text a code to this phone. {question}"),
    verified_confirm: |service, when, email| {
        format!("Thank you, this phone is verified. Let me confirm: a {service} on {when}, with the name and email of your earlier booking, the email starting with {email}. Shall I book it? If that email is not yours, say no.")
    },
    email_link_sms: |tenant, ttl| {
        format!("{tenant}: add your email to finish your booking in our chat (link valid {}, one use):", minutes(ttl))
    },
    email_link_sent: |ttl| {
        format!("Thank you, this phone is verified. A booking needs an email address for its confirmation, so I've texted you a link to our online chat, where this time is held for you for a few minutes: add your name and email there to finish. The link works once, within the next {}. Goodbye.", minutes(ttl))
    },
    phone_bookings: |choices| format!("Thank you, this phone is verified. I found these upcoming bookings. {choices}"),
    no_phone_bookings: "I couldn't find any upcoming bookings for this phone number. Is there anything else I can help you with?",
};

const CHAT: Chat = Chat {
    start_question: "I can book an appointment, look one up, reschedule or cancel it, or put you on the waitlist. What would you like to do?",
    didnt_catch: |question| format!("Sorry, I didn't catch that. {question}"),
    help: "I can book an appointment, look one up, reschedule or cancel it, or put you on the waitlist. I can't make or transfer phone calls, but I can do everything here in the chat. What would you like to do?",
    already_texting: "You're already chatting with me in text — I can help right here. I can book an appointment, look one up, reschedule or cancel it, or put you on the waitlist.",
    goodbye: "Thanks for stopping by — have a great day!",
    vague_request: "Happy to help you find a time. To show you the right options: which day (or days) are you thinking of, and do you prefer morning or afternoon? If you just want the earliest opening, say \"earliest\".",
    slot_label_format: "%a, %b %-d at %-I:%M %p",
    slot_label_time_after: " at ",
    followup_sla: "within a few minutes to a couple of hours",
    numbered: |number, item| format!("{number}. {item}"),
    service_option: |number, name, minutes| format!("{number}. {name} ({minutes} min)"),
    which_service: |options| format!("Which service would you like? {}", options.join(", ")),
    ask_date: "What day works for you? For example \"tomorrow\", \"next Tuesday\" or \"Dec 3\".",
    confirm_far_date: |date| {
        format!(
            "Just to confirm, you mean {}? (yes/no)",
            date.format("%A, %B %-d, %Y")
        )
    },
    which_date: "Which date would you like?",
    which_time: |options| {
        format!(
            "Which time would you like? {} (or say another day)",
            options.join(", ")
        )
    },
    ask_name: "May I have your full name?",
    ask_email: "What email address should I use for the confirmation?",
    confirm_booking: |service, when, name, email| {
        format!("Please confirm: {service} on {when} for {name} ({email}). Shall I book it? (yes/no)")
    },
    your_appointment: "your appointment",
    shall_i_book: "Shall I book it? (yes/no)",
    ask_reference: "What's your booking reference code? It looks like ABCD-EFGH.",
    ask_lookup_email: "And the email address you booked with?",
    ask_change_email: "To keep your booking safe, please type the email address the booking was made with.",
    sure_to_cancel: "Are you sure you want to cancel it? (yes/no)",
    confirm_move: |when| format!("Move your appointment to {when}? (yes/no)"),
    which_new_time: "Which new time would you like?",
    offer_waitlist: "Would you like me to add you to the waitlist? (yes/no)",
    ask_waitlist_email: "What email address should we use to let you know when a time opens up?",
    no_problem: |question| format!("No problem. {question}"),
    date_passed: |question| format!("That date has already passed. {question}"),
    beyond_lookahead: |max_days_ahead, until, question| {
        format!(
            "I can only book up to {max_days_ahead} days ahead (until {}). {question}",
            until.format("%b %-d")
        )
    },
    no_openings_waitlist: |service, from, to| {
        format!(
            "I don't see any openings for {service} between {} and {}. Would you like me to add you to the waitlist so we can let you know if something opens up? (yes/no)",
            from.format("%a %b %-d"),
            to.format("%a %b %-d"),
        )
    },
    offer_times: |nothing_on, service, day, options| {
        let day = day
            .map(|d| d.format("%A, %B %-d").to_string())
            .unwrap_or_default();
        let lead = match nothing_on {
            Some(date) => format!("There's nothing on {}, but here", date.format("%A, %B %-d")),
            None => "Here".to_string(),
        };
        format!(
            "{lead} are open times for {service} on {day}: {}. Which one would you like?",
            options.join(", ")
        )
    },
    not_an_open_time: |time, question| {
        format!(
            "{} isn't one of the open times. {question}",
            time.format("%-I:%M %p")
        )
    },
    holding: |when, question| format!("I'm holding {when} for you for a few minutes. {question}"),
    just_taken: |offer| format!("Sorry, that time was just taken. {offer}"),
    closed_then: |offer| format!("Sorry, we are closed at that time, or that staff member is away. {offer}"),
    day_full: |offer| format!("Sorry, that day is fully booked. {offer}"),
    nothing_booked: "No problem — I haven't booked anything. What other day or time would you like? (Or say \"cancel\" if you've changed your mind.)",
    hold_inactive: |question| format!("That hold is no longer active. {question}"),
    booked: |service, when, reference| format!("You're all set — your appointment is confirmed: {service} on {when}. Your reference code is {reference}. Keep it with your email to look up, reschedule or cancel."),
    hold_expired: |offer| format!("Sorry, the hold on that time expired. {offer}"),
    booked_by_someone_else: |offer| {
        format!("Sorry, that time was just booked by someone else. {offer}")
    },
    shows_cancelled: |reference, service, when| format!("Booking {reference} ({service} on {when}) shows as cancelled. Would you like to book a new time?"),
    found_to_cancel: |service, when, reference| format!("I found your {service} on {when} (reference {reference}). Are you sure you want to cancel it? (yes/no)"),
    found_to_reschedule: |service, when, reference| format!("I found your {service} on {when} (reference {reference}). What new day would you like?"),
    found: |service, when, reference, status| format!("Your {service} is on {when} — reference {reference}, status {status}. Anything else I can help with?"),
    booking_not_found: "I couldn't find a booking with that reference code and email. Could you check the code (it looks like ABCD-EFGH) and send it again?",
    left_as_is: "Okay — I've left your appointment as it is. Anything else?",
    cancelled: |reference, when| format!("Your appointment {reference} on {when} has been cancelled."),
    nothing_changed: |question| format!("No problem, nothing changed. {question}"),
    rescheduled: |when, reference| format!("Done — your appointment has been rescheduled to {when}. Your reference code stays {reference}."),
    okay: |question| format!("Okay. {question}"),
    an_appointment: "an appointment",
    your_email: "your email",
    on_waitlist: |service, email| format!("You're on the waitlist for {service}. If a matching time opens up we'll let you know at {email} (usually within a few minutes to a couple of hours of it opening)."),
    left_waitlist: |n| match n {
        0 => "You're not on our waitlist from this conversation, so there was nothing to remove.".into(),
        _ => "Done — you're off the waitlist. We won't send you any more openings.".into(),
    },
    tool_system_error: "I'm sorry — I'm having a system issue right now and couldn't complete that. Nothing was changed; please try again in a moment.",
    too_far_ahead: |question| format!("That's further ahead than I can book. {question}"),
    change_cutoff: |why| format!("Sorry, I can't change that booking here: {why}."),
    already_cancelled: "That booking is already cancelled.",
    didnt_work: |error, question| format!("Sorry, that didn't work ({error}). {question}"),
    handoff_welcome: "Welcome back! I have the details from your call",
    handoff_welcome_end: ". Let's pick up where we left off.",
    handoff_day_format: "%A, %B %-d",
    system_issue: "I'm sorry — I'm having a system issue right now and can't complete that. No changes were made to any appointment. Please try again in a moment.",
    unbacked_claim: "I haven't completed that yet — no appointment has been made or changed so far. Shall I continue?",
    no_calls: "I can't make, receive or transfer phone calls, but I can help you right here in the chat — or schedule a follow-up by email or text message if you prefer.",
    say_another_way: "Sorry — could you say that another way?",
    status_checking: "Checking the schedule…",
    status_holding: "Holding that time for you…",
    status_confirming: "Confirming your booking…",
    status_followup: "Scheduling follow-up in progress…",
    status_working: "Receptionist is working on it…",
    note_saved: |note, question| format!("I've noted: \"{note}\". It will be saved with your booking. {question}"),
    note_kept: |note| format!("I've noted: \"{note}\". It will be saved with the booking you make in this chat. Would you like to book an appointment?"),
    note_line: |note| format!(" Note for the team: \"{note}\"."),
    services_list: |lines, follow| format!("Here is what we offer:\n{}\n{follow}", lines.join("\n")),
    service_line: |name, minutes, description| {
        if description.trim().is_empty() {
            format!("- {name} ({minutes} min)")
        } else {
            format!("- {name} ({minutes} min): {}", description.trim())
        }
    },
    no_prices: "I don't have prices here; the team can tell you when you come in.",
    which_to_book: "Which would you like to book?",
    offer_followup: "Would you like the team to follow up by email (or text message, if you give me your mobile number) when they can help? I can't make phone calls. (yes/no)",
    followup_instead_of_call: "I can't make or receive phone calls, but I can have the team follow up with you by email (or text message, if you give me your mobile number). Would you like that? (yes/no)",
    ask_followup_email: "What email address should the team write to?",
    followup_scheduled: |channel, when| format!("Done — a follow-up {channel} from the team is scheduled; expect it {when}. Is there anything else I can help with?"),
    channel_email: "email",
    channel_sms: "text message",
    followup_another: "A follow-up is already scheduled from this chat. Would you like an additional one? (yes/no)",
    followup_on_its_way: "A follow-up to that contact was scheduled a short while ago and is on its way, so I haven't scheduled another.",
    followup_limit: "This chat already has the most follow-ups we can schedule, so I haven't scheduled another. I can still help you here.",
    followup_day_full: "The team can't schedule more follow-up messages today, so nothing was scheduled. You're welcome to come back to this chat later.",
    followup_declined: "No problem — no follow-up is scheduled. Is there anything else I can help with?",
};

const SMS: Sms = Sms {
    when_format: "%a, %b %-d at %-I:%M %p",
    opted_in: |tenant| {
        format!("{tenant}: you're subscribed to our messages again. Reply HELP for help, STOP to opt out.")
    },
    help: |tenant| {
        format!("{tenant}: appointment messages. Reply C to confirm, R to reschedule or X to cancel your next appointment. Reply STOP to opt out. Msg & data rates may apply.")
    },
    unknown_sender: |tenant| {
        format!("{tenant}: reply HELP for help. To book, call us or visit our website.")
    },
    no_booking: |tenant| {
        format!("{tenant}: we couldn't find an upcoming appointment booked with this number.")
    },
    appointment: "appointment",
    booking: |service, when| format!("{service} on {when}"),
    attendance_confirmed: |tenant, booking, reference| {
        format!("{tenant}: thanks! Your {booking} is confirmed (ref {reference}). See you then.")
    },
    cancel_failed: |tenant| {
        format!("{tenant}: we couldn't cancel that booking by text; please call us.")
    },
    cancelled: |tenant, booking| {
        format!("{tenant}: your {booking} is cancelled. You can book again online.")
    },
    not_found: |tenant| format!("{tenant}: that appointment was not found."),
    confirm_cancel: |tenant, minutes, booking, reference| {
        format!("{tenant}: reply X again within {minutes} minutes to cancel your {booking} (ref {reference}). Nothing has been cancelled yet.")
    },
    unrecognised: |tenant, booking| {
        format!("{tenant}: reply C to confirm, R to reschedule or X to cancel your {booking}. Reply HELP for help.")
    },
    intent_reschedule: "reschedule an appointment",
    reschedule_link: |tenant, service, ttl, link| {
        format!(
            "{tenant}: reschedule your {service} here (one use, valid {}): {link}",
            minutes(ttl)
        )
    },
    link_failed: |tenant| {
        format!("{tenant}: we couldn't create a link right now; please try again later.")
    },
    opt_out_tail: |reference| match reference {
        Some(r) => format!("ref {r}. Reply STOP to opt out."),
        None => "Reply STOP to opt out.".into(),
    },
    from_subject: |subject| format!("{subject}:"),
    hold_released: |tenant, when| {
        format!("{tenant}: your hold on {when} was released. It may still be open - come back to the chat to book.")
    },
    schedule_change: |tenant, booking, offer| {
        format!("{tenant}: we can no longer see you for your {booking} (we are closed or your practitioner is away). Your booking is kept until you choose. {offer}")
    },
    change_cutoff: |tenant, why| format!("{tenant}: your booking was not cancelled — {why}."),
    waitlist_match: |tenant, service, when| {
        format!("{tenant}: a {service} time opened up on {when}. Come back to the chat to book it.")
    },
    contact_followup: |tenant, about| {
        format!("{tenant}: you asked us to get back to you{about}. Reply or visit the chat to see open times.")
    },
    confirm_needed: |tenant, service, when, deadline| {
        format!("{tenant}: please reply C by {deadline} to keep your {service} on {when}. Without a reply the time will be released.")
    },
    no_show_followup: |tenant, service, options| {
        if options.is_empty() {
            format!("{tenant}: we missed you at your {service}. You can book another time online.")
        } else {
            format!("{tenant}: we missed you at your {service}. Open times: {options}. Book one online.")
        }
    },
    waitlist_offer: |tenant, service, when, minutes| {
        format!("{tenant}: a {service} time opened up on {when} and is held for you for {minutes} min. Reply BOOK to take it or LEAVE to leave the waitlist.")
    },
    waitlist_booked: |tenant, booking, reference| {
        format!("{tenant}: done! Your {booking} is booked (ref {reference}).")
    },
    waitlist_no_offer: |tenant| {
        format!("{tenant}: there is no time held for this number right now.")
    },
    waitlist_offer_gone: |tenant| format!("{tenant}: sorry, that time is no longer held for you."),
    waitlist_left: |tenant, n| match n {
        0 => format!("{tenant}: this number is not on our waitlist."),
        _ => format!("{tenant}: you have left the waitlist. We won't text you about openings."),
    },
    reminder: |tenant, service, lead, when, link| {
        let text = format!("{tenant}: reminder, your {service} is {lead}, {when}. Reply C to confirm, R to reschedule or X to cancel.");
        if link.is_empty() {
            text
        } else {
            format!("{text} Online: {link}")
        }
    },
    with_link: |text, link| format!("{text} {link}"),
    opted_out: |tenant| {
        format!("{tenant}: you are unsubscribed and will receive no more texts from us. Reply START to subscribe again.")
    },
};

const MAIL: Mail = Mail {
    when_format: "%A, %B %-d at %-I:%M %p %Z",
    time_format: "%-I:%M %p",
    default_sender: "gomomo",
    there: "there",
    appointment: "Appointment",
    default_subject: |tenant| format!("A message from {tenant}"),
    signed: |body, tenant| format!("{body}\n--\n{tenant}\n"),
    sent_by: |tenant| format!("Sent by {tenant}"),
    calendar_summary: |service, reference| format!("{service} ({reference})"),
    invite_summary: |service, tenant| format!("{service} at {tenant}"),
    invite_description: |service, tenant, reference| {
        format!("{service} at {tenant}. Reference {reference}. To reschedule or cancel, use your reference and email address.")
    },
    confirmed: "confirmed",
    rescheduled: "rescheduled",
    confirmation_subject: |service, state, when, reference| {
        format!("Your {service} is {state}: {when} ({reference})")
    },
    confirmation_body: |name, service, tenant, state, when, reference| {
        format!("Hi {name},\n\nYour {service} at {tenant} is {state} for {when}.\nReference: {reference}\n\nTo reschedule or cancel, use your reference and this email address.\n")
    },
    cancellation_subject: |service, when, reference| {
        format!("Cancelled: your {service} on {when} ({reference})")
    },
    cancellation_body: |name, service, tenant, when, reference| {
        format!("Hi {name},\n\nYour {service} at {tenant} on {when} has been cancelled (reference {reference}).\nYou are welcome to book another time whenever it suits you.\n")
    },
    lead_tomorrow: "tomorrow",
    lead_two_hours: "in about two hours",
    reminder_subject: |service, lead, when| format!("Reminder: {service} {lead}, {when}"),
    reminder_body: |name, service, tenant, lead, when, reference| {
        format!("Hi {name},\n\nA reminder that your {service} at {tenant} is {lead}: {when}.\nReference: {reference}\n\nIf you can no longer make it, please reschedule or cancel with your reference.\n")
    },
    on_calendar: |reference| format!("Your booking {reference} is now on the calendar."),
    escalation_subject: |service, when, reference| {
        format!("Your {service} on {when} is booked ({reference})")
    },
    escalation_body: |name, service, tenant, when, reference| {
        format!("Hi {name},\n\nYour {service} at {tenant} on {when} is confirmed (reference {reference}). We could not add it to our calendar system automatically; our team has been told and will take care of it. Nothing is needed from you.\n")
    },
    escalation_admin_subject: |reference| {
        format!("Action needed: calendar sync failed for {reference}")
    },
    escalation_admin_body: |reference, service, when, attempts| {
        format!("The booking {reference} ({service} on {when}) could not be written to the calendar after {attempts} attempts. Please add it by hand.\n")
    },
    calendar_revoked_subject: |resource| format!("Action needed: reconnect {resource}'s calendar"),
    calendar_revoked_body: |resource, provider, error| {
        format!("The {provider} calendar of {resource} refused our credentials ({error}). Until it is connected again, {resource}'s times are not offered to clients and new bookings are not written to that calendar. Reconnect it in the console under Calendars.\n")
    },
    calendar_drift_subject: |reference| format!("Calendar event of booking {reference} changed outside gomomo"),
    calendar_drift_body: |reference, resource, found| {
        let found = match found {
            "missing" => "deleted or moved away",
            other => other,
        };
        format!("The calendar event of booking {reference} in {resource}'s calendar was {found} outside gomomo. The booking itself is unchanged; to change it, reschedule or cancel it in the console so the client is told.\n")
    },
    hold_released_subject: |service, when| format!("Still interested in {service} on {when}?"),
    hold_released_body: |tenant, service, when| {
        format!("Hi,\n\nThe time you were holding at {tenant} ({service}, {when}) was released because the booking was not completed. It may still be open — come back to the chat to book it or pick another time.\n")
    },
    schedule_change_subject: |service, when| {
        format!("Please choose a new time for your {service} on {when}")
    },
    schedule_change_body: |name, tenant, service, when, reference, offer| {
        format!("Hi {name},\n\nWe are sorry: {tenant} can no longer see you for your {service} on {when} (reference {reference}) — we are closed or your practitioner is away then. Your booking is kept until you choose a new time or cancel it.\n\n{offer}\n")
    },
    new_times: |times, link| {
        if link.is_empty() {
            format!("Times we can offer instead: {times}. Reply or chat with us with your reference to move your booking.")
        } else {
            format!("Times we can offer instead: {times}. Book one at {link}")
        }
    },
    no_new_times: |link| {
        if link.is_empty() {
            "Reply or chat with us with your reference to find a new time.".into()
        } else {
            format!("Find a new time at {link}")
        }
    },
    waitlist_notice: |service, when| format!("Good news — a {service} time opened up on {when}."),
    waitlist_subject: |service, when| format!("A {service} time opened up: {when}"),
    waitlist_body: |name, tenant, when, service, until| {
        format!("Hi {name},\n\nYou asked to hear when a time opens at {tenant}. {when} ({service} to {until}) is free now. Times go fast — come back to the chat to book it.\n")
    },
    about: |reason| format!(" about {reason}"),
    followup_subject: |tenant| format!("Following up from {tenant}"),
    followup_body: |tenant, about| {
        format!("Hi,\n\nYou asked {tenant} to get back to you{about}. We would be glad to help you find a time — reply here or come back to the chat and we will show you what is open.\n")
    },
    confirm_needed_subject: |service, when| format!("Please confirm your {service} on {when}"),
    confirm_needed_body: |tenant, service, when, deadline, reference| {
        format!("Hi,\n\nPlease confirm that you will come to your {service} at {tenant} on {when} (reference {reference}) by {deadline}: reply C to our text message, or contact us. If we have no confirmation by then, the time will be released for other clients.\n")
    },
    released_subject: |service, when, reference| {
        format!("Your {service} on {when} was released ({reference})")
    },
    released_body: |name, service, tenant, when, reference| {
        format!("Hi {name},\n\nWe did not receive your confirmation in time, so your {service} at {tenant} on {when} (reference {reference}) was released for other clients. You are welcome to book another time.\n")
    },
    no_show_subject: |service, tenant| format!("We missed you at your {service} — {tenant}"),
    no_show_body: |name, service, tenant, when, options| {
        if options.is_empty() {
            format!("Hi {name},\n\nWe missed you at your {service} at {tenant} on {when}. We would be glad to see you another time — come back to the chat or reply to this email to book.\n")
        } else {
            format!("Hi {name},\n\nWe missed you at your {service} at {tenant} on {when}. We would be glad to see you another time. These times are open now:\n{options}\nCome back to the chat or reply to this email to book one.\n")
        }
    },
    offer_page_title: "A time is held for you",
    offer_page_text: |tenant, service, when, until| {
        format!("{tenant} is holding {service} on {when} for you until {until}. Book it with the button below; if you no longer need it, do nothing and it goes to the next person on the waitlist.")
    },
    offer_page_button: "Book this time",
    offer_booked_title: "You're booked",
    offer_booked_text: |tenant, service, when, reference| {
        format!("Your {service} at {tenant} on {when} is booked. Your reference is {reference}; a confirmation is on its way.")
    },
    offer_gone_title: "This offer is no longer open",
    offer_expired_text: "The time was held for a limited while and has gone to the next person on the waitlist. You can still book another time with us.",
    offer_closed_text: "This time is no longer held for you. You can still book another time with us.",
    offer_unknown_text: "This link does not lead to an offer. Please check that you opened the whole link from the message.",
    waitlist_offer_body: |name, tenant, when, service, minutes, link| {
        format!("Hi {name},\n\nYou asked to hear when a time opens at {tenant}. {when} ({service}) is free now, and we are holding it for you for {minutes} minutes. Take it here: {link}\n\nIf you no longer need it, do nothing and it goes to the next person on the waitlist.\n")
    },
    act_link: |link| format!("\nBook, reschedule or cancel online: {link}\n"),
    reminder_reply: "\nYou can also answer our text message: reply C to confirm, R to reschedule or X to cancel.\n",
};

const CLIENT_TIME: ClientTime = ClientTime {
    time_format: "%-I:%M %p",
    day_time_format: "%a, %b %-d at %-I:%M %p",
    beside: |clinic, client, zone| format!("{clinic} (your time: {client} {zone})"),
    voice_clinic_time: |place| {
        format!("The times I give are the clinic's local time, {place} time.")
    },
    invite_when: |when| format!(" When: {when}."),
};

const HANDOFF: Handoff = Handoff {
    title: "Continue in chat",
    heading: "Pick up where you left off",
    button: "Continue in chat",
    note: |ttl| {
        format!("This link works once, within {} of being sent. After you continue, the chat stays open in this browser.", minutes(ttl))
    },
    doing_book: "You were booking an appointment",
    doing_reschedule: "You were rescheduling an appointment",
    doing_cancel: "You were cancelling an appointment",
    doing_lookup: "You were looking up an appointment",
    doing_talk: "You were talking with us",
    by_text: " by text message",
    on_phone: " on the phone",
    headline: |doing, details| {
        if details.is_empty() {
            format!("{doing}. Continue in chat and we'll pick up from there.")
        } else {
            format!("{doing}: {}. Continue in chat and we'll pick up from there.", details.join(", "))
        }
    },
    said_used: "This link was already used. Please call us again or start a new chat.",
    said_expired: "This link has expired. Please call us again or start a new chat.",
    said_invalid: "We couldn't verify this link. Please open it exactly as it was sent to you.",
    said_missing: "This link is missing its code. Please open it exactly as it was sent to you.",
    said_storage: "This browser is not letting our site keep data (private browsing, or cookies and site data turned off), so the chat could not stay open here. Your link is still unused: allow site data for this site, or open the link in a regular window, then tap “Continue in chat” again.",
    said_storage_after: "This browser did not let us keep the conversation, and the link is now used. Please call us again or start a new chat.",
    said_other: "We couldn't open your conversation right now. Please try again in a moment.",
    missing_title: "Link incomplete",
    missing_text: "This link is missing its code. Please open the link exactly as it was sent to you.",
    gone_title: "This link has expired",
    gone_text: |ttl| {
        format!("Links from our text messages work once, for {}. Please call us again or start a new chat on our website — it only takes a moment.", minutes(ttl))
    },
    invalid_title: "This link is not valid",
    invalid_text: "We couldn't verify this link. Please open the link exactly as it was sent to you.",
    failed_title: "Something went wrong",
    failed_text: "We couldn't open your conversation right now. Please try the link again in a moment.",
};

/// "1 minute", "15 minutes".
fn minutes(n: i64) -> String {
    if n == 1 {
        "1 minute".into()
    } else {
        format!("{n} minutes")
    }
}
