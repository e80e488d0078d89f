//! Where an audience's import stands.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudienceStatus {
    Queued,
    Processing,
    Done,
    DoneWithRejections,
    Failed,
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

    pub fn label_for(code: &str) -> &'static str {
        Self::parse(code).map_or("Desconhecida", Self::label)
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
        assert_eq!(
            AudienceStatus::label_for("done_with_rejections"),
            "Concluída com rejeições"
        );
    }
}
