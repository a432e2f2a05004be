/** What an emailed code, link or second-factor challenge is for. */
export type ChallengePurpose = 'sign_up' | 'sign_in_code' | 'reset' | 'second_factor' | 'email_change' | 'second_factor_undo';
