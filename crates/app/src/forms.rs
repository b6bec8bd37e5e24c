//! Field errors of a form, GOV.UK style: each error belongs to a field, is listed in the summary at the
//! top (linking to the field) and shown again at the field.

#[derive(Debug, Default, Clone)]
pub struct FormErrors(Vec<FieldError>);

#[derive(Debug, Clone)]
pub struct FieldError {
    /// The `id` of the field the message belongs to.
    pub field: String,
    pub message: String,
}

impl FormErrors {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        let field = field.into();
        if self.get(&field).is_empty() {
            self.0.push(FieldError {
                field,
                message: message.into(),
            });
        }
    }

    /// The message for a field, or "" when it has none.
    pub fn get(&self, field: &str) -> &str {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
            .unwrap_or("")
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn items(&self) -> &[FieldError] {
        &self.0
    }
}
