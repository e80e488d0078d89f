//! The LGPD legal basis a company declares for processing an imported audience.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegalBasis {
    Consentimento,
    ObrigacaoLegal,
    ExecucaoContrato,
    LegitimoInteresse,
    ProtecaoCredito,
    ExercicioDireitos,
    TutelaSaude,
    ProtecaoVida,
    PoliticasPublicas,
    EstudosPesquisa,
}

impl LegalBasis {
    pub const ALL: [LegalBasis; 10] = [
        LegalBasis::Consentimento,
        LegalBasis::ObrigacaoLegal,
        LegalBasis::ExecucaoContrato,
        LegalBasis::LegitimoInteresse,
        LegalBasis::ProtecaoCredito,
        LegalBasis::ExercicioDireitos,
        LegalBasis::TutelaSaude,
        LegalBasis::ProtecaoVida,
        LegalBasis::PoliticasPublicas,
        LegalBasis::EstudosPesquisa,
    ];

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.code() == code.trim())
    }

    /// The value stored and sent by the form.
    pub fn code(self) -> &'static str {
        match self {
            LegalBasis::Consentimento => "consentimento",
            LegalBasis::ObrigacaoLegal => "obrigacao_legal",
            LegalBasis::ExecucaoContrato => "execucao_contrato",
            LegalBasis::LegitimoInteresse => "legitimo_interesse",
            LegalBasis::ProtecaoCredito => "protecao_credito",
            LegalBasis::ExercicioDireitos => "exercicio_direitos",
            LegalBasis::TutelaSaude => "tutela_saude",
            LegalBasis::ProtecaoVida => "protecao_vida",
            LegalBasis::PoliticasPublicas => "politicas_publicas",
            LegalBasis::EstudosPesquisa => "estudos_pesquisa",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            LegalBasis::Consentimento => "Consentimento",
            LegalBasis::ObrigacaoLegal => "Cumprimento de obrigação legal",
            LegalBasis::ExecucaoContrato => "Execução de contrato",
            LegalBasis::LegitimoInteresse => "Legítimo interesse",
            LegalBasis::ProtecaoCredito => "Proteção do crédito",
            LegalBasis::ExercicioDireitos => "Exercício regular de direitos",
            LegalBasis::TutelaSaude => "Tutela da saúde",
            LegalBasis::ProtecaoVida => "Proteção da vida",
            LegalBasis::PoliticasPublicas => "Políticas públicas",
            LegalBasis::EstudosPesquisa => "Estudos por órgão de pesquisa",
        }
    }

    /// The label for a stored code, or the code itself if it is not one we know.
    pub fn label_for(code: &str) -> String {
        Self::parse(code).map_or_else(|| code.to_string(), |b| b.label().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips() {
        for basis in LegalBasis::ALL {
            assert_eq!(LegalBasis::parse(basis.code()), Some(basis));
        }
        assert_eq!(LegalBasis::parse("vontade_do_gerente"), None);
        assert_eq!(
            LegalBasis::label_for("protecao_credito"),
            "Proteção do crédito"
        );
    }
}
