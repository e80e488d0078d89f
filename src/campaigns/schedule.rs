//! When a campaign runs: now, once at a date and time, or recurring (daily, weekly on
//! chosen days, monthly on day N or the last day) until an optional end date. Times are
//! entered and shown in America/Sao_Paulo and stored as UTC seconds; the next occurrence
//! of a recurring schedule comes from its cron pattern (croner), evaluated in that zone
//! (chrono-tz), so a change of the zone's rules is followed.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::America::Sao_Paulo;
use croner::Cron;

/// The monthly "day" that means the last day of each month.
pub const LAST_DAY: u8 = 0;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    Now,
    Once {
        at: i64,
    },
    Daily {
        time: (u8, u8),
        until: Option<i64>,
    },
    /// Days are 0 (Sunday) to 6 (Saturday).
    Weekly {
        time: (u8, u8),
        days: Vec<u8>,
        until: Option<i64>,
    },
    /// `day` 1–28, or [`LAST_DAY`].
    Monthly {
        time: (u8, u8),
        day: u8,
        until: Option<i64>,
    },
}

/// What a person typed; every field as text.
#[derive(Debug, Clone, Default)]
pub struct ScheduleInput {
    pub kind: String,
    pub at: String,
    pub time: String,
    pub days: Vec<String>,
    pub day: String,
    pub until: String,
}

/// A field of the schedule that cannot be read, with the pt-BR message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleError {
    pub field: &'static str,
    pub message: &'static str,
}

fn error(field: &'static str, message: &'static str) -> ScheduleError {
    ScheduleError { field, message }
}

pub const WEEKDAYS: [&str; 7] = ["Dom", "Seg", "Ter", "Qua", "Qui", "Sex", "Sáb"];

/// `14:30` → (14, 30).
pub fn parse_time(text: &str) -> Option<(u8, u8)> {
    let t = NaiveTime::parse_from_str(text.trim(), "%H:%M").ok()?;
    use chrono::Timelike;
    Some((t.hour() as u8, t.minute() as u8))
}

/// A local date and time in Brasília (`2026-12-01 14:30`, `2026-12-01T14:30` or
/// `01/12/2026 14:30`) as UTC seconds.
pub fn parse_local(text: &str) -> Option<i64> {
    let text = text.trim();
    let naive = [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%d/%m/%Y %H:%M",
        "%Y-%m-%dT%H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())?;
    local_to_utc(naive)
}

fn local_to_utc(naive: NaiveDateTime) -> Option<i64> {
    // A time skipped by a clock change has no earliest instant; such a time is refused.
    Sao_Paulo
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.timestamp())
}

/// `2026-12-31` (or `31/12/2026`): the end of that day in Brasília, as UTC seconds.
pub fn parse_end_date(text: &str) -> Option<i64> {
    let text = text.trim();
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .ok()?;
    local_to_utc(date.and_hms_opt(23, 59, 59)?)
}

impl Schedule {
    pub fn parse(input: &ScheduleInput) -> Result<Schedule, ScheduleError> {
        let time = || {
            parse_time(&input.time)
                .ok_or_else(|| error("time", "Informe o horário no formato HH:MM."))
        };
        let until = || {
            if input.until.trim().is_empty() {
                Ok(None)
            } else {
                parse_end_date(&input.until)
                    .map(Some)
                    .ok_or_else(|| error("until", "Informe a data final como AAAA-MM-DD."))
            }
        };
        match input.kind.trim() {
            "" | "now" => Ok(Schedule::Now),
            "once" => parse_local(&input.at)
                .map(|at| Schedule::Once { at })
                .ok_or_else(|| error("at", "Informe a data e a hora como AAAA-MM-DD HH:MM.")),
            "daily" => Ok(Schedule::Daily {
                time: time()?,
                until: until()?,
            }),
            "weekly" => {
                let mut days = Vec::new();
                for d in &input.days {
                    match d.trim().parse::<u8>() {
                        Ok(n) if n < 7 => days.push(n),
                        _ => return Err(error("days", "Dia da semana inválido.")),
                    }
                }
                days.sort_unstable();
                days.dedup();
                if days.is_empty() {
                    return Err(error("days", "Escolha ao menos um dia da semana."));
                }
                Ok(Schedule::Weekly {
                    time: time()?,
                    days,
                    until: until()?,
                })
            }
            "monthly" => {
                let day = match input.day.trim() {
                    "L" | "l" | "ultimo" | "último" => LAST_DAY,
                    d => d
                        .parse::<u8>()
                        .ok()
                        .filter(|n| (1..=28).contains(n))
                        .ok_or_else(|| {
                            error("day", "Escolha um dia de 1 a 28 ou o último dia do mês.")
                        })?,
                };
                Ok(Schedule::Monthly {
                    time: time()?,
                    day,
                    until: until()?,
                })
            }
            _ => Err(error("schedule", "Escolha quando enviar.")),
        }
    }

    /// The stored columns: kind, at, time, days, until.
    pub fn columns(
        &self,
    ) -> (
        &'static str,
        Option<i64>,
        Option<String>,
        Option<String>,
        Option<i64>,
    ) {
        let hm = |(h, m): (u8, u8)| Some(format!("{h:02}:{m:02}"));
        match self {
            Schedule::Now => ("now", None, None, None, None),
            Schedule::Once { at } => ("once", Some(*at), None, None, None),
            Schedule::Daily { time, until } => ("daily", None, hm(*time), None, *until),
            Schedule::Weekly { time, days, until } => (
                "weekly",
                None,
                hm(*time),
                Some(days.iter().map(u8::to_string).collect::<Vec<_>>().join(",")),
                *until,
            ),
            Schedule::Monthly { time, day, until } => (
                "monthly",
                None,
                hm(*time),
                Some(if *day == LAST_DAY {
                    "L".to_string()
                } else {
                    day.to_string()
                }),
                *until,
            ),
        }
    }

    /// Back from the stored columns.
    pub fn from_columns(
        kind: &str,
        at: Option<i64>,
        time: Option<&str>,
        days: Option<&str>,
        until: Option<i64>,
    ) -> Option<Schedule> {
        let time = || time.and_then(parse_time);
        Some(match kind {
            "now" => Schedule::Now,
            "once" => Schedule::Once { at: at? },
            "daily" => Schedule::Daily {
                time: time()?,
                until,
            },
            "weekly" => Schedule::Weekly {
                time: time()?,
                days: days?
                    .split(',')
                    .filter_map(|d| d.trim().parse().ok())
                    .collect(),
                until,
            },
            "monthly" => Schedule::Monthly {
                time: time()?,
                day: match days? {
                    "L" => LAST_DAY,
                    d => d.parse().ok()?,
                },
                until,
            },
            _ => return None,
        })
    }

    pub fn is_recurring(&self) -> bool {
        matches!(
            self,
            Schedule::Daily { .. } | Schedule::Weekly { .. } | Schedule::Monthly { .. }
        )
    }

    fn cron(&self) -> Option<Cron> {
        let pattern = match self {
            Schedule::Daily { time: (h, m), .. } => format!("{m} {h} * * *"),
            Schedule::Weekly {
                time: (h, m), days, ..
            } => format!(
                "{m} {h} * * {}",
                days.iter().map(u8::to_string).collect::<Vec<_>>().join(",")
            ),
            Schedule::Monthly {
                time: (h, m), day, ..
            } => {
                let dom = if *day == LAST_DAY {
                    "L".to_string()
                } else {
                    day.to_string()
                };
                format!("{m} {h} {dom} * *")
            }
            _ => return None,
        };
        Cron::from_str(&pattern).ok()
    }

    /// The first occurrence strictly after `after` (UTC seconds), if any: a one-off
    /// schedule has its time (when still ahead), a recurring one the next match of its
    /// pattern in Brasília before its end date.
    pub fn next_after(&self, after: i64) -> Option<i64> {
        match self {
            Schedule::Now => None,
            Schedule::Once { at } => (*at > after).then_some(*at),
            Schedule::Daily { until, .. }
            | Schedule::Weekly { until, .. }
            | Schedule::Monthly { until, .. } => {
                let start = Utc
                    .timestamp_opt(after, 0)
                    .single()?
                    .with_timezone(&Sao_Paulo);
                let next: DateTime<chrono_tz::Tz> =
                    self.cron()?.find_next_occurrence(&start, false).ok()?;
                let next = next.timestamp();
                match until {
                    Some(end) if next > *end => None,
                    _ => Some(next),
                }
            }
        }
    }

    /// How a person reads it: "Diariamente às 09:00 até 31/12/2026".
    pub fn describe(&self) -> String {
        let until = |u: &Option<i64>| match u {
            Some(end) => format!(" até {}", crate::time::format_br_date(*end)),
            None => String::new(),
        };
        match self {
            Schedule::Now => "Envio imediato".into(),
            Schedule::Once { at } => format!("Uma vez, em {}", crate::time::format_br(*at)),
            Schedule::Daily {
                time: (h, m),
                until: u,
            } => {
                format!("Diariamente às {h:02}:{m:02}{}", until(u))
            }
            Schedule::Weekly {
                time: (h, m),
                days,
                until: u,
            } => format!(
                "Semanalmente ({}) às {h:02}:{m:02}{}",
                days.iter()
                    .map(|d| WEEKDAYS[usize::from(*d).min(6)])
                    .collect::<Vec<_>>()
                    .join(", "),
                until(u)
            ),
            Schedule::Monthly {
                time: (h, m),
                day,
                until: u,
            } => {
                let which = if *day == LAST_DAY {
                    "no último dia".to_string()
                } else {
                    format!("no dia {day}")
                };
                format!("Mensalmente {which} às {h:02}:{m:02}{}", until(u))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(kind: &str) -> ScheduleInput {
        ScheduleInput {
            kind: kind.into(),
            ..Default::default()
        }
    }

    fn local(text: &str) -> i64 {
        parse_local(text).unwrap()
    }

    #[test]
    fn brasilia_times_are_stored_in_utc() {
        // 14:30 in Brasília is 17:30 UTC (UTC−3, no daylight saving since 2019).
        assert_eq!(
            local("2026-12-01 14:30"),
            Utc.with_ymd_and_hms(2026, 12, 1, 17, 30, 0)
                .unwrap()
                .timestamp()
        );
        assert_eq!(local("01/12/2026 14:30"), local("2026-12-01T14:30"));
        assert!(parse_local("2026-13-01 14:30").is_none());
    }

    #[test]
    fn daily_runs_every_day_at_its_time_until_the_end_date() {
        let mut i = input("daily");
        i.time = "09:00".into();
        i.until = "2026-12-03".into();
        let s = Schedule::parse(&i).unwrap();
        let first = s.next_after(local("2026-12-01 10:00")).unwrap();
        assert_eq!(first, local("2026-12-02 09:00"));
        let second = s.next_after(first).unwrap();
        assert_eq!(second, local("2026-12-03 09:00"));
        assert_eq!(s.next_after(second), None);
    }

    #[test]
    fn weekly_runs_on_the_chosen_days() {
        let mut i = input("weekly");
        i.time = "08:15".into();
        i.days = vec!["1".into(), "5".into()]; // Monday and Friday
        let s = Schedule::parse(&i).unwrap();
        // 2026-12-01 is a Tuesday.
        let a = s.next_after(local("2026-12-01 00:00")).unwrap();
        assert_eq!(a, local("2026-12-04 08:15"));
        assert_eq!(s.next_after(a).unwrap(), local("2026-12-07 08:15"));
        i.days.clear();
        assert_eq!(Schedule::parse(&i).unwrap_err().field, "days");
    }

    #[test]
    fn recurring_runs_cross_a_month_and_a_year() {
        let mut i = input("weekly");
        i.time = "18:30".into();
        i.days = vec!["3".into()]; // Wednesday
        let s = Schedule::parse(&i).unwrap();
        let mut at = local("2026-11-20 00:00");
        let mut seen = Vec::new();
        for _ in 0..7 {
            at = s.next_after(at).unwrap();
            seen.push(crate::time::format_br(at));
        }
        assert_eq!(
            seen,
            [
                "25/11/2026 18:30",
                "02/12/2026 18:30",
                "09/12/2026 18:30",
                "16/12/2026 18:30",
                "23/12/2026 18:30",
                "30/12/2026 18:30",
                "06/01/2027 18:30",
            ]
        );
        let mut i = input("daily");
        i.time = "23:59".into();
        let s = Schedule::parse(&i).unwrap();
        assert_eq!(
            s.next_after(local("2026-11-30 23:59")),
            Some(local("2026-12-01 23:59"))
        );
    }

    #[test]
    fn monthly_on_day_n_or_the_last_day_across_months() {
        let mut i = input("monthly");
        i.time = "10:00".into();
        i.day = "L".into();
        let s = Schedule::parse(&i).unwrap();
        let jan = s.next_after(local("2027-01-05 00:00")).unwrap();
        assert_eq!(jan, local("2027-01-31 10:00"));
        assert_eq!(s.next_after(jan).unwrap(), local("2027-02-28 10:00"));
        i.day = "15".into();
        let s = Schedule::parse(&i).unwrap();
        assert_eq!(
            s.next_after(local("2027-01-15 10:00")).unwrap(),
            local("2027-02-15 10:00")
        );
        i.day = "31".into();
        assert_eq!(Schedule::parse(&i).unwrap_err().field, "day");
    }

    #[test]
    fn stored_columns_read_back_the_same_schedule() {
        let mut i = input("weekly");
        i.time = "07:05".into();
        i.days = vec!["6".into(), "0".into()];
        i.until = "2027-03-01".into();
        let s = Schedule::parse(&i).unwrap();
        let (kind, at, time, days, until) = s.columns();
        let back =
            Schedule::from_columns(kind, at, time.as_deref(), days.as_deref(), until).unwrap();
        assert_eq!(back, s);
        assert_eq!(
            s.describe(),
            "Semanalmente (Dom, Sáb) às 07:05 até 01/03/2027"
        );
    }

    #[test]
    fn a_one_off_time_is_next_only_while_ahead() {
        let mut i = input("once");
        i.at = "2026-12-24 18:00".into();
        let s = Schedule::parse(&i).unwrap();
        let at = local("2026-12-24 18:00");
        assert_eq!(s.next_after(at - 1), Some(at));
        assert_eq!(s.next_after(at), None);
        i.at = "amanhã".into();
        assert_eq!(Schedule::parse(&i).unwrap_err().field, "at");
    }
}
