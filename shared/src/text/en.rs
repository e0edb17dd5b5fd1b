//! English.

use super::{Chat, Mail, Sms, Speech, Text, Voice};

pub const TEXT: Text = Text {
    voice: VOICE,
    speech: SPEECH,
    chat: CHAT,
    sms: SMS,
    mail: MAIL,
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
    handoff_sms: |tenant| {
        format!("{tenant}: continue your booking in our chat (link valid 15 minutes, one use):")
    },
    handoff_sent: "I've sent you a text message with a link. It opens our online chat right where we left off, and works once within the next 15 minutes. Thank you for calling. Goodbye.",
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
    cancelled: "Your appointment is cancelled. Is there anything else I can help you with?",
    booking_gone: "I couldn't find that booking any more. What is the reference code?",
    left_as_is: "Okay, I've left your appointment as it is. Is there anything else I can help you with?",
    moved: |when, reference| format!("Done. Your appointment is now on {when}, and your reference code stays {reference}. Is there anything else I can help you with?"),
    no_longer_available_pick_day:
        "I'm sorry, that time is no longer available. What day would you like instead?",
    unchanged: "No problem, your appointment is unchanged. What other day would you like?",
};

const CHAT: Chat = Chat {
    capabilities:
        "I can book an appointment, look one up, reschedule or cancel it, or put you on the waitlist.",
};

const SMS: Sms = Sms {
    opt_out_hint: "Reply STOP to opt out.",
};

const MAIL: Mail = Mail {
    appointment: "Appointment",
};
