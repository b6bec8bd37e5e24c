//! Form errors are shared with the use cases, which validate what people typed.

pub use startblok_app::forms::FormErrors;
