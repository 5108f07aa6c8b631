//! The template grants ReleaseFunction what its calls need, and nothing they do not.

#[test]
fn the_policy_covers_every_call_and_nothing_else() {
    cutover_aws::iam::check_template_file("ReleaseFunction", release::CALLS);
}
