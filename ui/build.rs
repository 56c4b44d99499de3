//! Compiles the .slint tree with the Chinese and English translations bundled in.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = slint_build::CompilerConfiguration::new()
        .with_style("fluent-light".into())
        .with_bundled_translations("../resources/i18n");
    slint_build::compile_with_config("main.slint", config)?;
    println!("cargo:rerun-if-changed=../resources/i18n");
    Ok(())
}
