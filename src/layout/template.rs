//! The layout's columns and the template users download.

/// The layout's columns, in their required order.
pub const COLUMNS: [&str; 13] = [
    "TIPO_DE_REGISTRO",
    "VALOR_DO_REGISTRO",
    "MENSAGEM",
    "NOME_CLIENTE",
    "CPFCNPJ",
    "CODCLIENTE",
    "TAG",
    "CORINGA1",
    "CORINGA2",
    "CORINGA3",
    "CORINGA4",
    "CORINGA5",
    "PRIORIDADE",
];

/// What goes in each column, for the Layout help page: (required, meaning).
pub const COLUMN_HELP: [(&str, &str); 13] = [
    ("Sim", "TELEFONE ou EMAIL: o canal desta linha."),
    (
        "Sim",
        "O telefone com DDD, sem espaços (11987654321), ou o endereço de e-mail.",
    ),
    (
        "Não",
        "Texto de SMS já escrito para esta linha (@Mensagem nas campanhas).",
    ),
    (
        "Não (recomendado)",
        "Nome do cliente (@Nome e @PrimeiroNome nas campanhas).",
    ),
    (
        "Não (importante)",
        "CPF ou CNPJ, com ou sem pontuação: evita homônimos e identifica a pessoa.",
    ),
    (
        "Não",
        "O código da empresa para o cliente (contrato, número do cliente).",
    ),
    (
        "Não",
        "Tag de localização: texto livre para achar o contato e o público em relatórios e na fila.",
    ),
    ("Não", "Valor livre usado como @Coringa1 nas mensagens."),
    ("Não", "Valor livre usado como @Coringa2 nas mensagens."),
    ("Não", "Valor livre usado como @Coringa3 nas mensagens."),
    ("Não", "Valor livre usado como @Coringa4 nas mensagens."),
    ("Não", "Valor livre usado como @Coringa5 nas mensagens."),
    (
        "Não",
        "BAIXA, MEDIA ou ALTA: a prioridade do contato na fila de atendimento.",
    ),
];

/// The example rows of the template, for the help page.
pub fn example_rows() -> &'static [[&'static str; 13]] {
    &EXAMPLE_ROWS
}

/// Example rows: one contact with a TELEFONE and an EMAIL row, and every priority.
/// Each of them must import cleanly.
const EXAMPLE_ROWS: [[&str; 13]; 4] = [
    [
        "TELEFONE",
        "11987654321",
        "Olá Maria, sua fatura de novembro vence amanhã.",
        "Maria da Conceição",
        "52998224725",
        "C-1001",
        "Loja Paulista",
        "Fatura 2026-11",
        "R$ 150,00",
        "28/11/2026",
        "",
        "",
        "ALTA",
    ],
    [
        "EMAIL",
        "maria.conceicao@exemplo.com.br",
        "",
        "Maria da Conceição",
        "52998224725",
        "C-1001",
        "Loja Paulista",
        "Fatura 2026-11",
        "R$ 150,00",
        "28/11/2026",
        "",
        "",
        "ALTA",
    ],
    [
        "TELEFONE",
        "21998765432",
        "João, temos uma oferta para você.",
        "João Araújo",
        "11222333000181",
        "C-1002",
        "Filial Niterói",
        "Plano Ouro",
        "",
        "",
        "",
        "",
        "MEDIA",
    ],
    [
        "TELEFONE",
        "8532345678",
        "",
        "Sebastião Lima",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "BAIXA",
    ],
];

/// The downloadable template as Excel pt-BR opens it cleanly: UTF-8 with BOM, `;`, CRLF.
pub fn template_csv() -> Vec<u8> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut writer = csv::WriterBuilder::new()
            .delimiter(b';')
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        writer.write_record(COLUMNS).expect("writing to memory");
        for row in EXAMPLE_ROWS {
            writer.write_record(row).expect("writing to memory");
        }
        writer.flush().expect("writing to memory");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_is_bom_semicolon_crlf() {
        let bytes = template_csv();
        assert!(bytes.starts_with(b"\xEF\xBB\xBFTIPO_DE_REGISTRO;VALOR_DO_REGISTRO;MENSAGEM;"));
        let text = std::str::from_utf8(&bytes[3..]).unwrap();
        assert!(text.ends_with("\r\n"));
        assert_eq!(text.matches("\r\n").count(), 1 + EXAMPLE_ROWS.len());
        assert!(!text.replace("\r\n", "").contains('\n'));
        assert!(text.contains("Maria da Conceição"));
    }
}
