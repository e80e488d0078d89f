//! Where an audience's import stands.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudienceStatus {
    Queued,
    Processing,
    Done,
    DoneWithRejections,
    Failed,
}

/// As stored: an unknown code is a corrupt row, refused when read.
impl TryFrom<String> for AudienceStatus {
    type Error = String;

    fn try_from(code: String) -> Result<Self, Self::Error> {
        Self::parse(&code).ok_or_else(|| format!("unknown audience status {code:?}"))
    }
}

impl AudienceStatus {
    const ALL: [AudienceStatus; 5] = [
        AudienceStatus::Queued,
        AudienceStatus::Processing,
        AudienceStatus::Done,
        AudienceStatus::DoneWithRejections,
        AudienceStatus::Failed,
    ];

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn code(self) -> &'static str {
        match self {
            AudienceStatus::Queued => "queued",
            AudienceStatus::Processing => "processing",
            AudienceStatus::Done => "done",
            AudienceStatus::DoneWithRejections => "done_with_rejections",
            AudienceStatus::Failed => "failed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AudienceStatus::Queued => "Na fila",
            AudienceStatus::Processing => "Processando",
            AudienceStatus::Done => "Concluída",
            AudienceStatus::DoneWithRejections => "Concluída com rejeições",
            AudienceStatus::Failed => "Falhou",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips() {
        for s in AudienceStatus::ALL {
            assert_eq!(AudienceStatus::parse(s.code()), Some(s));
        }
        assert!(AudienceStatus::try_from("pending".to_string()).is_err());
        assert_eq!(
            AudienceStatus::try_from("done_with_rejections".to_string()).map(|s| s.label()),
            Ok("Concluída com rejeições")
        );
    }
}
