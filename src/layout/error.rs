//! What can be wrong with a layout file or one of its rows: stable codes (part of the
//! product's interface) and the pt-BR messages users read.

use std::fmt;

/// Problems that fail the whole import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileErrorCode {
    ColumnCount,
    Header,
    KeyMissing,
    RecordType,
    Formula,
    MultipleSheets,
    ExtraContent,
    Empty,
    Unreadable,
    TooLarge,
    /// Merged cells in a workbook: their value lands in one row only.
    MergedCells,
    /// A text file in an 8-bit code page that could not be told for sure.
    Encoding,
}

impl FileErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            FileErrorCode::ColumnCount => "column_count",
            FileErrorCode::Header => "header",
            FileErrorCode::KeyMissing => "key_missing",
            FileErrorCode::RecordType => "record_type",
            FileErrorCode::Formula => "formula",
            FileErrorCode::MultipleSheets => "multiple_sheets",
            FileErrorCode::ExtraContent => "extra_content",
            FileErrorCode::Empty => "empty",
            FileErrorCode::Unreadable => "unreadable",
            FileErrorCode::TooLarge => "too_large",
            FileErrorCode::MergedCells => "merged_cells",
            FileErrorCode::Encoding => "encoding",
        }
    }
}

impl FileErrorCode {
    /// What the problem is called on screen (the code stays in CSV, JSON and the CLI).
    pub fn label(self) -> &'static str {
        match self {
            FileErrorCode::ColumnCount => "Número de colunas",
            FileErrorCode::Header => "Cabeçalho diferente do layout",
            FileErrorCode::KeyMissing => "Chave obrigatória vazia",
            FileErrorCode::RecordType => "Tipo de registro inválido",
            FileErrorCode::Formula => "Fórmula no lugar de valor",
            FileErrorCode::MultipleSheets => "Mais de uma planilha",
            FileErrorCode::ExtraContent => "Conteúdo fora do layout",
            FileErrorCode::Empty => "Arquivo vazio",
            FileErrorCode::Unreadable => "Arquivo ilegível",
            FileErrorCode::TooLarge => "Arquivo grande demais",
            FileErrorCode::MergedCells => "Células mescladas",
            FileErrorCode::Encoding => "Codificação desconhecida",
        }
    }

    const ALL: [FileErrorCode; 12] = [
        FileErrorCode::ColumnCount,
        FileErrorCode::Header,
        FileErrorCode::KeyMissing,
        FileErrorCode::RecordType,
        FileErrorCode::Formula,
        FileErrorCode::MultipleSheets,
        FileErrorCode::ExtraContent,
        FileErrorCode::Empty,
        FileErrorCode::Unreadable,
        FileErrorCode::TooLarge,
        FileErrorCode::MergedCells,
        FileErrorCode::Encoding,
    ];
}

/// The pt-BR name of a stored file or row problem code; an unknown code reads as a
/// generic problem, never as the code itself.
pub fn code_label(code: &str) -> &'static str {
    FileErrorCode::ALL
        .iter()
        .find(|c| c.as_str() == code)
        .map(|c| c.label())
        .or_else(|| {
            RowErrorCode::ALL
                .iter()
                .find(|c| c.as_str() == code)
                .map(|c| c.label())
        })
        .unwrap_or("Problema no arquivo")
}

impl fmt::Display for FileErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Problems that reject one row; the rest of the file is imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RowErrorCode {
    InvalidPhone,
    InvalidEmail,
    InvalidDocument,
    InvalidPriority,
    ScientificNotation,
    /// Set by the import, not the file: the row's keys lead to different people.
    IdentityConflict,
    /// A cell holds control characters (NUL, ESC…).
    InvalidText,
    /// A cell holds one of Excel's errors (`#N/A`, `#REF!`, `#DIV/0!`…), not a value.
    CellError,
}

impl RowErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            RowErrorCode::InvalidPhone => "invalid_phone",
            RowErrorCode::InvalidEmail => "invalid_email",
            RowErrorCode::InvalidDocument => "invalid_document",
            RowErrorCode::InvalidPriority => "invalid_priority",
            RowErrorCode::ScientificNotation => "scientific_notation",
            RowErrorCode::IdentityConflict => "identity_conflict",
            RowErrorCode::InvalidText => "invalid_text",
            RowErrorCode::CellError => "cell_error",
        }
    }
}

impl RowErrorCode {
    /// What the problem is called on screen (the code stays in CSV, JSON and the CLI).
    pub fn label(self) -> &'static str {
        match self {
            RowErrorCode::InvalidPhone => "Telefone inválido",
            RowErrorCode::InvalidEmail => "E-mail inválido",
            RowErrorCode::InvalidDocument => "CPF/CNPJ inválido",
            RowErrorCode::InvalidPriority => "Prioridade inválida",
            RowErrorCode::ScientificNotation => "Número em notação científica",
            RowErrorCode::IdentityConflict => "Chaves de pessoas diferentes",
            RowErrorCode::InvalidText => "Caracteres de controle",
            RowErrorCode::CellError => "Erro do Excel na célula",
        }
    }

    const ALL: [RowErrorCode; 8] = [
        RowErrorCode::InvalidPhone,
        RowErrorCode::InvalidEmail,
        RowErrorCode::InvalidDocument,
        RowErrorCode::InvalidPriority,
        RowErrorCode::ScientificNotation,
        RowErrorCode::IdentityConflict,
        RowErrorCode::InvalidText,
        RowErrorCode::CellError,
    ];
}

impl fmt::Display for RowErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A file-level problem, located where possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// 1-based physical line where the record starts (the sheet row for spreadsheets).
    pub line: Option<u64>,
    pub column: Option<&'static str>,
    pub code: FileErrorCode,
    pub message: String,
    pub value: Option<String>,
}

/// Values quoted in messages are cut, so one huge cell cannot flood a report.
const MAX_VALUE_CHARS: usize = 200;

/// A value as messages quote it: cut to a readable length, control characters (which a
/// database may refuse and a page would garble) left out.
fn shown(value: &str) -> String {
    let visible = || value.chars().filter(|c| !c.is_control());
    if visible().count() <= MAX_VALUE_CHARS {
        visible().collect()
    } else {
        let cut: String = visible().take(MAX_VALUE_CHARS).collect();
        format!("{cut}…")
    }
}

impl FileError {
    fn new(
        line: Option<u64>,
        column: Option<&'static str>,
        code: FileErrorCode,
        message: String,
        value: Option<&str>,
    ) -> Self {
        FileError {
            line,
            column,
            code,
            message,
            value: value.map(shown),
        }
    }

    pub fn unreadable(reason: impl Into<String>) -> Self {
        Self::unreadable_at(None, reason)
    }

    /// Not UTF-8, and no 8-bit code page reads it clearly as Portuguese.
    pub fn unknown_encoding() -> Self {
        Self::new(
            None,
            None,
            FileErrorCode::Encoding,
            "Não foi possível reconhecer a codificação do texto: os acentos sairiam trocados \
             (\"JOÃO\" viraria \"JOÇO\"), por isso nada foi importado. No Excel, use Arquivo → \
             Salvar como → \"CSV UTF-8 (delimitado por vírgulas)\" e envie o arquivo de novo."
                .to_string(),
            None,
        )
    }

    pub fn unreadable_at(line: Option<u64>, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Self::new(
            line,
            None,
            FileErrorCode::Unreadable,
            format!(
                "Não foi possível ler o arquivo: {reason}. Envie o layout em CSV, TXT, XLSX, XLS ou ODS."
            ),
            None,
        )
    }

    pub fn column_count(line: u64, found: usize, header: &str) -> Self {
        Self::new(
            Some(line),
            None,
            FileErrorCode::ColumnCount,
            format!(
                "O cabeçalho tem {found} coluna(s), mas o layout tem 13: {}. Não acrescente nem remova colunas.",
                super::COLUMNS.join(", ")
            ),
            Some(header),
        )
    }

    pub fn header(line: u64, position: usize, expected: &'static str, found: &str) -> Self {
        Self::new(
            Some(line),
            Some(expected),
            FileErrorCode::Header,
            format!(
                "A coluna {position} do cabeçalho deveria ser {expected}, mas é \"{}\". Use os nomes e a ordem do layout.",
                shown(found)
            ),
            Some(found),
        )
    }

    pub fn key_missing(line: u64, column: &'static str) -> Self {
        Self::new(
            Some(line),
            Some(column),
            FileErrorCode::KeyMissing,
            format!("{column} é obrigatório e está vazio nesta linha."),
            Some(""),
        )
    }

    pub fn record_type(line: u64, value: &str) -> Self {
        Self::new(
            Some(line),
            Some(super::COLUMNS[0]),
            FileErrorCode::RecordType,
            format!(
                "TIPO_DE_REGISTRO deve ser TELEFONE ou EMAIL, mas é \"{}\".",
                shown(value.trim())
            ),
            Some(value),
        )
    }

    pub fn formula(line: u64, column: Option<&'static str>, value: &str) -> Self {
        Self::new(
            Some(line),
            column,
            FileErrorCode::Formula,
            "A célula contém uma fórmula. Copie e cole apenas os valores antes de importar."
                .to_string(),
            Some(value),
        )
    }

    /// Cells merged over `range` (`A2:A3`), as Excel names it.
    pub fn merged_cells(line: u64, range: &str) -> Self {
        Self::new(
            Some(line),
            None,
            FileErrorCode::MergedCells,
            format!(
                "As células {range} estão mescladas: o valor fica numa só linha e as outras chegam vazias. Desfaça a mesclagem (Página Inicial → Mesclar e Centralizar) e preencha cada linha."
            ),
            Some(range),
        )
    }

    pub fn multiple_sheets(names: &[String]) -> Self {
        Self::new(
            None,
            None,
            FileErrorCode::MultipleSheets,
            format!(
                "A planilha tem {} abas ({}); o arquivo deve ter uma única aba com o layout.",
                names.len(),
                names.join(", ")
            ),
            Some(&names.join(", ")),
        )
    }

    pub fn extra_content(line: u64, position: usize, value: &str) -> Self {
        Self::new(
            Some(line),
            None,
            FileErrorCode::ExtraContent,
            format!(
                "Há conteúdo na coluna {position}, fora das 13 colunas do layout. Apague o que estiver à direita de PRIORIDADE."
            ),
            Some(value),
        )
    }

    pub fn empty(has_header: bool) -> Self {
        let message = if has_header {
            "O arquivo só tem o cabeçalho: não há linhas de contatos para importar."
        } else {
            "O arquivo está vazio."
        };
        Self::new(None, None, FileErrorCode::Empty, message.to_string(), None)
    }

    pub fn too_large(limit: u64) -> Self {
        Self::new(
            None,
            None,
            FileErrorCode::TooLarge,
            format!(
                "A planilha passa de {limit} células, o máximo aceito. Divida o arquivo ou salve-o como CSV."
            ),
            None,
        )
    }
}

/// Why one row is rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub code: RowErrorCode,
    pub column: &'static str,
    pub message: String,
    pub value: String,
}

impl RowError {
    pub fn new(code: RowErrorCode, column: &'static str, value: &str, detail: &str) -> Self {
        let message = match code {
            RowErrorCode::InvalidPhone => format!("Telefone inválido: {detail}."),
            RowErrorCode::InvalidEmail => "E-mail inválido.".to_string(),
            RowErrorCode::InvalidDocument => format!("CPF/CNPJ inválido: {detail}."),
            RowErrorCode::InvalidPriority => {
                "Prioridade inválida: use BAIXA, MEDIA ou ALTA.".to_string()
            }
            RowErrorCode::ScientificNotation => format!(
                "O Excel transformou o número de {column} em notação científica ({}) e os dígitos se perderam. Formate a coluna como Texto e digite o número de novo.",
                shown(value.trim())
            ),
            RowErrorCode::IdentityConflict => detail.to_string(),
            RowErrorCode::CellError => format!(
                "A coluna {column} traz o erro {} do Excel, não um valor. Corrija a fórmula ou a célula de origem, copie os valores e importe de novo.",
                shown(value.trim())
            ),
            RowErrorCode::InvalidText => format!(
                "A coluna {column} contém caracteres de controle (invisíveis, como NUL ou ESC), que não são aceitos. Apague-os e importe de novo."
            ),
        };
        RowError {
            code,
            column,
            message,
            value: shown(value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_portuguese_label() {
        for code in FileErrorCode::ALL {
            assert_eq!(code_label(code.as_str()), code.label());
            assert!(!code.label().contains('_'), "{code}");
        }
        for code in RowErrorCode::ALL {
            assert_eq!(code_label(code.as_str()), code.label());
            assert!(!code.label().contains('_'), "{code}");
        }
        assert_eq!(
            code_label("scientific_notation"),
            "Número em notação científica"
        );
        assert_eq!(code_label("no_such_code"), "Problema no arquivo");
    }
}
