//! Type stripping: TypeScript-flavoured handler source in, plain JavaScript for Node 20 out.

use std::path::Path;

use oxc_allocator::Allocator;
use oxc_codegen::Codegen;
use oxc_parser::Parser;
use oxc_semantic::SemanticBuilder;
use oxc_span::SourceType;
use oxc_transformer::{TransformOptions, Transformer};

/// A script that cannot be parsed, with where the first problem is (1-based line and column,
/// columns counted in characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (line {line}, column {column})")]
pub struct SyntaxError {
    pub message: String,
    pub line: u32,
    pub column: u32,
}

/// Strips TypeScript syntax (annotations, interfaces, `as`, generics, enums, ...) from a handler or
/// initialization script, leaving JavaScript with the same behaviour. Plain JavaScript passes
/// through (reprinted). Module syntax is kept as written: handlers are CommonJS scripts.
pub fn strip_types(script: &str) -> Result<String, SyntaxError> {
    let allocator = Allocator::default();
    // `.ts`, not `.tsx`: `<Type>value` casts are valid in handlers and JSX is not.
    let source_type = SourceType::ts();
    let parsed = Parser::new(&allocator, script, source_type).parse();
    if let Some(error) = parsed.errors.first() {
        return Err(syntax_error(script, error));
    }
    if parsed.panicked {
        return Err(SyntaxError {
            message: "the script cannot be parsed".into(),
            line: 1,
            column: 1,
        });
    }
    let mut program = parsed.program;
    // Early errors the parser leaves to semantic analysis (redeclared `let`, misplaced `break`, ...).
    let semantic = SemanticBuilder::new()
        .with_check_syntax_error(true)
        .build(&program);
    if let Some(error) = semantic.errors.first() {
        return Err(syntax_error(script, error));
    }
    let scoping = semantic.semantic.into_scoping();
    let options = TransformOptions::default();
    let transformed = Transformer::new(&allocator, Path::new("handler.ts"), &options)
        .build_with_scoping(scoping, &mut program);
    if let Some(error) = transformed.errors.first() {
        return Err(syntax_error(script, error));
    }
    Ok(Codegen::new().build(&program).code)
}

fn syntax_error(script: &str, error: &oxc_diagnostics::OxcDiagnostic) -> SyntaxError {
    let offset = error
        .labels
        .as_ref()
        // Without a primary label the last one points at the offence (e.g. the redeclaration).
        .and_then(|labels| {
            labels
                .iter()
                .find(|label| label.primary())
                .or(labels.last())
        })
        .map_or(0, |label| label.offset());
    let (line, column) = line_and_column(script, offset);
    SyntaxError {
        message: error.message.to_string(),
        line,
        column,
    }
}

/// 1-based line and character column of a byte offset.
fn line_and_column(text: &str, offset: usize) -> (u32, u32) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    let column = before[line_start..].chars().count() + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_annotations_and_keeps_behaviour() {
        let out = strip_types(
            "interface Ev { name: string }\n\
             async function handleEvent(event: Ev, context: any): Promise<string> {\n\
               const n = (event.name as string)!;\n\
               return `hi ${n}`;\n\
             }\n",
        )
        .unwrap();
        assert!(
            out.contains("async function handleEvent(event, context)"),
            "{out}"
        );
        assert!(!out.contains("interface"), "{out}");
        assert!(!out.contains(" as "), "{out}");
    }

    #[test]
    fn enums_become_objects() {
        let out =
            strip_types("enum Color { Red, Green }\nconst c: Color = Color.Green;\n").unwrap();
        assert!(out.contains("Color[\"Green\"]"), "{out}");
    }

    #[test]
    fn plain_javascript_passes() {
        let out =
            strip_types("const x = require('x');\nmodule.exports = async (e) => x(e);\n").unwrap();
        assert!(out.contains("module.exports"), "{out}");
    }

    #[test]
    fn reports_line_and_column() {
        let error = strip_types("const a = 1;\nconst b = ;\n").unwrap_err();
        assert_eq!((error.line, error.column), (2, 11), "{error}");
        let error = strip_types("let a = 1;\nlet a = 2;\n").unwrap_err();
        assert_eq!(error.line, 2, "{error}");
    }

    #[test]
    fn columns_count_characters() {
        assert_eq!(line_and_column("é\nab", 4), (2, 2));
        assert_eq!(line_and_column("éx", 2), (1, 2));
    }
}
