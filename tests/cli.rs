//! Golden tests of the command line (trycmd case files in tests/cmd/): help texts, exit codes,
//! messages and the files commands leave behind.

#[test]
fn cli_cases() {
    trycmd::TestCases::new().case("tests/cmd/*.trycmd");
}
