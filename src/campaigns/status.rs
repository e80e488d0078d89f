//! The statuses of a campaign, of one of its runs and of one message, with their pt-BR
//! labels. Each is written by one module only: campaigns and runs by
//! `models::campaign`, messages by `campaigns::ledger`.

macro_rules! status_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => ($code:literal, $label:literal)),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// As stored and as the command line prints it.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),* }
            }

            /// As the pages show it.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),* }
            }

            pub fn from_code(code: &str) -> Option<$name> {
                match code { $($code => Some($name::$variant),)* _ => None }
            }
        }
    };
}

status_enum!(
    /// A campaign as a whole.
    CampaignStatus {
        Draft => ("draft", "Rascunho"),
        Scheduled => ("scheduled", "Agendada"),
        Sending => ("sending", "Enviando"),
        Paused => ("paused", "Pausada"),
        Done => ("done", "Concluída"),
        Cancelled => ("cancelled", "Cancelada"),
        Failed => ("failed", "Falhou"),
    }
);

status_enum!(
    /// One occurrence of a campaign.
    RunStatus {
        Sending => ("sending", "Enviando"),
        Paused => ("paused", "Pausada"),
        Done => ("done", "Concluída"),
        Cancelled => ("cancelled", "Cancelada"),
        Missed => ("missed", "Perdida"),
        Failed => ("failed", "Falhou"),
    }
);

status_enum!(
    /// One message of a run. `Queued` is claimed by a server but not yet handed to the
    /// provider (safe to give back); `Sending` has been or is being handed over.
    MessageStatus {
        Pending => ("pending", "Pendente"),
        Queued => ("queued", "Na fila"),
        Sending => ("sending", "Enviando"),
        Sent => ("sent", "Enviada"),
        Delivered => ("delivered", "Entregue"),
        Read => ("read", "Lida"),
        Failed => ("failed", "Falhou"),
        Skipped => ("skipped", "Ignorada"),
        Uncertain => ("uncertain", "Incerta"),
    }
);

/// Why a recipient gets no message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SkipReason {
    NoChannel,
    Dnd,
    EmptyVariable,
    Invalid,
    Duplicate,
    NoWhatsapp,
    /// The phone's owner stopped WhatsApp marketing messages (a MARKETING template only).
    MarketingStopped,
    /// The person's data was eliminated (LGPD) before the message went.
    Eliminated,
}

impl SkipReason {
    /// The reasons planning a run (and its preview) may give; `Eliminated` comes later,
    /// from an elimination, and is never previewed.
    pub const ALL: [SkipReason; 7] = [
        SkipReason::NoChannel,
        SkipReason::Dnd,
        SkipReason::EmptyVariable,
        SkipReason::Invalid,
        SkipReason::Duplicate,
        SkipReason::NoWhatsapp,
        SkipReason::MarketingStopped,
    ];

    pub fn code(self) -> &'static str {
        match self {
            SkipReason::NoChannel => "no_channel",
            SkipReason::Dnd => "dnd",
            SkipReason::EmptyVariable => "empty_variable",
            SkipReason::Invalid => "invalid",
            SkipReason::Duplicate => "duplicate",
            SkipReason::NoWhatsapp => "no_whatsapp",
            SkipReason::MarketingStopped => "marketing_stopped",
            SkipReason::Eliminated => "eliminated",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SkipReason::NoChannel => "Sem canal deste tipo",
            SkipReason::Dnd => "Não Perturbe",
            SkipReason::EmptyVariable => "Variável vazia",
            SkipReason::Invalid => "Endereço inválido",
            SkipReason::Duplicate => "Repetido (mesmo endereço)",
            SkipReason::NoWhatsapp => "Sem WhatsApp",
            SkipReason::MarketingStopped => "Parou as mensagens de marketing no WhatsApp",
            SkipReason::Eliminated => "Dados eliminados (LGPD)",
        }
    }

    pub fn from_code(code: &str) -> Option<SkipReason> {
        Self::ALL
            .into_iter()
            .chain([SkipReason::Eliminated])
            .find(|r| r.code() == code)
    }

    /// Whether a campaign on this channel can skip for this reason.
    pub fn applies_to(self, channel: super::CampaignChannel) -> bool {
        !matches!(self, SkipReason::NoWhatsapp | SkipReason::MarketingStopped)
            || channel == super::CampaignChannel::Whatsapp
    }
}
