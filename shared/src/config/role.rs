//! What a binary is. The role decides which settings a process reads (the table in
//! [`super::vars`]) and which start checks fail closed (`app::check_start`).

/// What a binary serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// REST API, admin API, the web pages.
    Api,
    /// The REST chat (`POST /api/tenants/{tenant}/chat`): the agent without a socket.
    ChatHttp,
    /// The spreadsheet routes: appointments exported to and imported from .xlsx.
    Excel,
    /// The chat over API Gateway WebSockets.
    ChatWs,
    /// Twilio voice webhooks.
    Voice,
    /// Inbound SMS and handoff links.
    Handoff,
    /// Domain events from SQS: orchestrator, jobs, delivery.
    Worker,
    /// The minute tick: hold expiry, due jobs, outbox sweep, delivery.
    Scheduler,
    /// The deploy-time database migrations (a CloudFormation custom resource).
    Migrate,
    /// `gomomo serve` and its commands: everything in one process.
    Standalone,
}

impl Role {
    /// Every role, in the order of the template's functions.
    pub const ALL: [Role; 10] = [
        Role::Api,
        Role::ChatHttp,
        Role::Excel,
        Role::ChatWs,
        Role::Voice,
        Role::Handoff,
        Role::Worker,
        Role::Scheduler,
        Role::Migrate,
        Role::Standalone,
    ];

    /// The roles that send email (they run the notification dispatcher).
    pub fn sends_mail(self) -> bool {
        matches!(self, Role::Worker | Role::Scheduler | Role::Standalone)
    }

    /// The roles that send SMS through the SMS gate: notifications (worker, scheduler) and
    /// handoff links texted to a caller (voice, handoff).
    pub fn sends_sms(self) -> bool {
        matches!(
            self,
            Role::Voice | Role::Handoff | Role::Worker | Role::Scheduler | Role::Standalone
        )
    }

    /// The roles that answer Twilio webhooks or serve handoff links.
    pub fn serves_twilio(self) -> bool {
        matches!(self, Role::Voice | Role::Handoff | Role::Standalone)
    }

    /// The roles that post frames to WebSocket connections through API Gateway: the chat
    /// itself and the job runners, whose pushes go out as soon as they are written.
    pub fn posts_to_sockets(self) -> bool {
        matches!(self, Role::ChatWs | Role::Worker | Role::Scheduler)
    }
}
