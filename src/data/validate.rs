//! Checking cells: numbers, whole numbers, dates, times and required text,
//! each bad one reported on its row and column; and the readers of the small
//! tables (products, inventory, warehouses, orders, fleet), checked row by
//! row.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::data::aggregate::Acc;
use crate::data::detect::{DateFormat, column_date_format, example_date, parse_time_of_day, parse_with};
use crate::data::mapping::{Field, NO, YES};
use crate::data::problems::Problems;
use crate::data::read::Table;
use crate::domain::{DeliveryOrder, Event, InventoryRecord, Location, Product, ProductDefaults, Vehicle, Warehouse};

fn parse_number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// A required text cell, or an error.
fn required_text<'a>(t: &'a Table, f: Field, i: usize, problems: &mut Problems) -> Option<&'a str> {
    let v = t.cell(f, i);
    if v.is_none() {
        problems.error(
            &t.label,
            Some(t.row(i)),
            t.col(f),
            None,
            format!("a {f} is required here"),
        );
    }
    v
}

/// An optional number cell at or above `min`; `Err` after reporting a bad one.
/// No number a planner means is beyond a trillion either way (1e308 on hand
/// went through and silently stopped the line's orders).
fn number_cell(
    t: &Table,
    f: Field,
    i: usize,
    min: f64,
    what: &str,
    problems: &mut Problems,
) -> Result<Option<f64>, ()> {
    bounded_cell(t, f, i, (min, 1e12), what, problems)
}

/// Units on hand, on order or ordered: at most a billion, as a sales row's.
const MAX_UNITS: f64 = 1e9;

/// A delivery order's quantity and a vehicle's capacity: at most 40
/// million. The route solver counts loads in hundredths in 32 bits (up to
/// 42.9 million units): larger ones were clamped alike, and an order fitted
/// a vehicle too small for it.
const MAX_LOAD: f64 = 4e7;
/// The largest pack size and minimum order a product row may give: more
/// is a typo, not a supplier's terms (as much as a planner may order).
const MAX_PACK: u32 = 1_000_000;
const MAX_MOQ: u32 = 10_000_000;

/// [`number_cell`] between `min` and `max`.
fn bounded_cell(
    t: &Table,
    f: Field,
    i: usize,
    (min, max): (f64, f64),
    what: &str,
    problems: &mut Problems,
) -> Result<Option<f64>, ()> {
    let Some(s) = t.cell(f, i) else { return Ok(None) };
    // Beyond the bound, the message says the bound too.
    let beyond = parse_number(s).is_some_and(|v| v.abs() > max) && !what.contains("at most");
    let what = if beyond {
        format!("{what} (at most a trillion)")
    } else {
        what.to_string()
    };
    let what = what.as_str();
    match parse_number(s) {
        Some(v) if v >= min && v.abs() <= max => Ok(Some(v)),
        _ => {
            let hint = crate::data::numbers::hint(s);
            problems.error(
                &t.label,
                Some(t.row(i)),
                t.col(f),
                Some(s),
                format!("expected {what}{hint}"),
            );
            Err(())
        }
    }
}

/// A whole number in `range`, or an error saying `what` was expected.
fn whole_cell(
    t: &Table,
    f: Field,
    i: usize,
    range: std::ops::RangeInclusive<u32>,
    what: &str,
    problems: &mut Problems,
) -> Result<Option<u32>, ()> {
    let Some(s) = t.cell(f, i) else { return Ok(None) };
    match parse_number(s) {
        Some(v) if v.fract() == 0.0 && v >= f64::from(*range.start()) && v <= f64::from(*range.end()) => {
            Ok(Some(v as u32))
        }
        _ => {
            problems.error(&t.label, Some(t.row(i)), t.col(f), Some(s), format!("expected {what}"));
            Err(())
        }
    }
}

fn date_cell(
    t: &Table,
    f: Field,
    i: usize,
    fmt: Option<&DateFormat>,
    problems: &mut Problems,
) -> Result<Option<NaiveDate>, ()> {
    let Some(s) = t.cell(f, i) else { return Ok(None) };
    // Without a format the column as a whole was already reported.
    let Some(fmt) = fmt else { return Err(()) };
    match parse_with(s, fmt) {
        Some(d) => Ok(Some(d)),
        None => {
            let ex = example_date(fmt);
            problems.error(
                &t.label,
                Some(t.row(i)),
                t.col(f),
                Some(s),
                format!("expected a date like {ex}"),
            );
            Err(())
        }
    }
}

fn time_cell(t: &Table, f: Field, i: usize, problems: &mut Problems) -> Result<Option<u32>, ()> {
    let Some(s) = t.cell(f, i) else { return Ok(None) };
    match parse_time_of_day(s) {
        Some(v) => Ok(Some(v)),
        None => {
            problems.error(
                &t.label,
                Some(t.row(i)),
                t.col(f),
                Some(s),
                "expected a time of day like 08:30 or a number of minutes after midnight",
            );
            Err(())
        }
    }
}

/// Report a key seen before in this or another file of the same kind.
fn check_duplicate(
    seen: &mut HashMap<String, (String, usize)>,
    key: &str,
    t: &Table,
    i: usize,
    column: Field,
    what: &str,
    problems: &mut Problems,
) -> bool {
    let row = t.row(i);
    if let Some((file, first)) = seen.get(key) {
        let place = if *file == t.label {
            format!("row {first}")
        } else {
            format!("{file} row {first}")
        };
        problems.error(
            &t.label,
            Some(row),
            t.col(column),
            Some(key),
            format!("duplicate {what}: already on {place}; expected each {what} once"),
        );
        true
    } else {
        seen.insert(key.to_string(), (t.label.clone(), row));
        false
    }
}

pub(super) fn read_products(
    t: &Table,
    defaults: &ProductDefaults,
    date_format: Option<&str>,
    problems: &mut Problems,
    acc: &mut Acc,
) {
    acc.saw_product_file = true;
    let launch_format = column_date_format(t, Field::LaunchDate, date_format, problems);
    let d = defaults;
    for i in 0..t.height() {
        let Some(sku) = required_text(t, Field::Sku, i, problems) else {
            continue;
        };
        if check_duplicate(&mut acc.product_rows, sku, t, i, Field::Sku, "SKU", problems) {
            continue;
        }
        let unit_cost = number_cell(t, Field::UnitCost, i, 0.0, "a unit cost of 0 or more", problems);
        let price = number_cell(t, Field::Price, i, 0.0, "a price of 0 or more", problems);
        // A pack or an MOQ of billions is a typo: ordered as given, a plan
        // line came to 4,294,967,295 units (a planner's own quantity stops
        // at ten million).
        let pack = whole_cell(
            t,
            Field::PackSize,
            i,
            1..=MAX_PACK,
            "a whole pack size of 1 to 1,000,000",
            problems,
        );
        let moq = whole_cell(
            t,
            Field::Moq,
            i,
            0..=MAX_MOQ,
            "a whole minimum order quantity of 0 to 10,000,000",
            problems,
        );
        // A plan forecasts the lead time ahead: years of it are a typo (and
        // ran a plan out of memory).
        let lead = whole_cell(
            t,
            Field::LeadTime,
            i,
            0..=crate::domain::MAX_LEAD_DAYS,
            &format!("a lead time in whole days, 0 to {}", crate::domain::MAX_LEAD_DAYS),
            problems,
        );
        let launch = date_cell(t, Field::LaunchDate, i, launch_format.as_ref(), problems);
        let (Ok(unit_cost), Ok(price), Ok(pack), Ok(moq), Ok(lead), Ok(launch)) =
            (unit_cost, price, pack, moq, lead, launch)
        else {
            continue;
        };
        acc.products.push(Product {
            sku: sku.to_string(),
            title: t.cell(Field::Title, i).unwrap_or(sku).to_string(),
            category: t.cell(Field::Category, i).map(str::to_string),
            brand: t.cell(Field::Brand, i).map(str::to_string),
            unit_cost,
            price,
            pack_size: pack.unwrap_or(d.pack_size),
            moq: moq.unwrap_or(d.moq),
            lead_time_days: lead.unwrap_or(d.lead_time_days),
            supplier: t.cell(Field::Supplier, i).map(str::to_string),
            synthesized: false,
            launch_date: launch,
        });
    }
}

pub(super) fn read_inventory(
    t: &Table,
    date_format: Option<&str>,
    problems: &mut Problems,
    acc: &mut Acc,
) -> Option<String> {
    let fmt = column_date_format(t, Field::DueDate, date_format, problems);
    let mut seen: HashMap<String, (String, usize)> = acc
        .inventory
        .iter()
        .map(|(r, f, row)| (format!("{} / {}", r.sku, r.warehouse), (f.clone(), *row)))
        .collect();
    for i in 0..t.height() {
        let sku = required_text(t, Field::Sku, i, problems);
        let wh = required_text(t, Field::Warehouse, i, problems);
        let on_hand = match t.cell(Field::OnHand, i) {
            None => {
                problems.error(
                    &t.label,
                    Some(t.row(i)),
                    t.col(Field::OnHand),
                    None,
                    "a quantity on hand is required here",
                );
                Err(())
            }
            Some(_) => bounded_cell(
                t,
                Field::OnHand,
                i,
                (f64::MIN, MAX_UNITS),
                "a quantity on hand (a number of at most a billion units)",
                problems,
            ),
        };
        let on_order = bounded_cell(
            t,
            Field::OnOrder,
            i,
            (0.0, MAX_UNITS),
            "a quantity on order of 0 or more (at most a billion units)",
            problems,
        );
        let due = date_cell(t, Field::DueDate, i, fmt.as_ref(), problems);
        let (Some(sku), Some(wh), Ok(Some(on_hand)), Ok(on_order), Ok(due)) = (sku, wh, on_hand, on_order, due) else {
            continue;
        };
        let key = format!("{sku} / {wh}");
        if check_duplicate(&mut seen, &key, t, i, Field::Sku, "SKU and warehouse", problems) {
            continue;
        }
        let on_order = on_order.unwrap_or(0.0);
        if on_hand < 0.0 {
            // Backorders in some systems: taken as they are, and said, as
            // the order then also covers them.
            problems.warning(
                &t.label,
                Some(t.row(i)),
                t.col(Field::OnHand),
                Some(&on_hand.to_string()),
                "stock on hand is negative (backorders?): taken as it is, so the plan orders that much more",
            );
        }
        if on_order > 0.0 && due.is_none() && t.col(Field::DueDate).is_some() {
            problems.warning(
                &t.label,
                Some(t.row(i)),
                t.col(Field::DueDate),
                None,
                "stock is on order but no due date is given; it will be treated as due after the lead time",
            );
        }
        acc.inventory.push((
            InventoryRecord {
                sku: sku.to_string(),
                warehouse: wh.to_string(),
                on_hand,
                on_order,
                due_date: due,
            },
            t.label.clone(),
            t.row(i),
        ));
    }
    fmt.map(|f| f.shown())
}

pub(super) fn read_warehouses(t: &Table, problems: &mut Problems, acc: &mut Acc) {
    acc.saw_warehouse_file = true;
    for i in 0..t.height() {
        let Some(id) = required_text(t, Field::Id, i, problems) else {
            continue;
        };
        let lat = number_cell(t, Field::Lat, i, -90.0, "a latitude between -90 and 90", problems)
            .and_then(|v| check_max(t, Field::Lat, i, v, 90.0, "a latitude between -90 and 90", problems));
        let lon = number_cell(t, Field::Lon, i, -180.0, "a longitude between -180 and 180", problems)
            .and_then(|v| check_max(t, Field::Lon, i, v, 180.0, "a longitude between -180 and 180", problems));
        // Planar coordinates, for orders given as x/y: any number.
        let x = number_cell(t, Field::X, i, f64::MIN, "a coordinate (a number)", problems);
        let y = number_cell(t, Field::Y, i, f64::MIN, "a coordinate (a number)", problems);
        if check_duplicate(&mut acc.warehouse_rows, id, t, i, Field::Id, "warehouse", problems) {
            continue;
        }
        let (Ok(lat), Ok(lon), Ok(x), Ok(y)) = (lat, lon, x, y) else {
            continue;
        };
        acc.warehouses.push(Warehouse {
            id: id.to_string(),
            name: t.cell(Field::Name, i).unwrap_or(id).to_string(),
            lat,
            lon,
            x,
            y,
        });
    }
}

fn check_max(
    t: &Table,
    f: Field,
    i: usize,
    v: Option<f64>,
    max: f64,
    what: &str,
    problems: &mut Problems,
) -> Result<Option<f64>, ()> {
    match v {
        Some(x) if x > max => {
            problems.error(
                &t.label,
                Some(t.row(i)),
                t.col(f),
                Some(&x.to_string()),
                format!("expected {what}"),
            );
            Err(())
        }
        _ => Ok(v),
    }
}

pub(super) fn read_orders(
    t: &Table,
    date_format: Option<&str>,
    problems: &mut Problems,
    acc: &mut Acc,
) -> Option<String> {
    let latlon = t.col(Field::Lat).is_some() && t.col(Field::Lon).is_some();
    let xy = t.col(Field::X).is_some() && t.col(Field::Y).is_some();
    if !latlon && !xy {
        problems.error(
            &t.label,
            None,
            None,
            None,
            "the orders file needs coordinates: lat and lon columns, or x and y columns",
        );
        return None;
    }
    let fmt = column_date_format(t, Field::Date, date_format, problems);
    let mut seen: HashMap<String, (String, usize)> = acc
        .orders
        .iter()
        .map(|(o, f, row)| (o.id.clone(), (f.clone(), *row)))
        .collect();
    for i in 0..t.height() {
        let id = required_text(t, Field::Id, i, problems);
        let wh = required_text(t, Field::Warehouse, i, problems);
        let (a, b) = if latlon {
            (Field::Lat, Field::Lon)
        } else {
            (Field::X, Field::Y)
        };
        let ca = number_cell(t, a, i, f64::MIN, "a coordinate (a number)", problems);
        let cb = number_cell(t, b, i, f64::MIN, "a coordinate (a number)", problems);
        let location = match (ca, cb) {
            (Ok(Some(p)), Ok(Some(q))) => {
                if latlon && (p.abs() > 90.0 || q.abs() > 180.0) {
                    problems.error(
                        &t.label,
                        Some(t.row(i)),
                        t.col(Field::Lat),
                        Some(&format!("{p}, {q}")),
                        "expected a latitude between -90 and 90 and a longitude between -180 and 180",
                    );
                    None
                } else if latlon {
                    Some(Location::LatLon { lat: p, lon: q })
                } else {
                    Some(Location::Xy { x: p, y: q })
                }
            }
            (Ok(None), _) | (_, Ok(None)) => {
                problems.error(
                    &t.label,
                    Some(t.row(i)),
                    t.col(a),
                    None,
                    "coordinates are required here",
                );
                None
            }
            _ => None,
        };
        let qty = match bounded_cell(
            t,
            Field::Quantity,
            i,
            (0.0, MAX_LOAD),
            "a quantity of 0 or more (at most 40 million units: no route carries more)",
            problems,
        ) {
            Ok(None) => {
                problems.error(
                    &t.label,
                    Some(t.row(i)),
                    t.col(Field::Quantity),
                    None,
                    "a quantity is required here",
                );
                Err(())
            }
            other => other,
        };
        let date = date_cell(t, Field::Date, i, fmt.as_ref(), problems);
        let ready = time_cell(t, Field::Ready, i, problems);
        let due = time_cell(t, Field::Due, i, problems);
        let service = number_cell(t, Field::Service, i, 0.0, "service minutes, 0 or more", problems);
        let (Some(id), Some(wh), Some(location), Ok(Some(qty)), Ok(date), Ok(ready), Ok(due), Ok(service)) =
            (id, wh, location, qty, date, ready, due, service)
        else {
            continue;
        };
        let ready = ready.unwrap_or(0);
        let due = due.unwrap_or(24 * 60);
        if due < ready {
            problems.error(
                &t.label,
                Some(t.row(i)),
                t.col(Field::Due),
                t.cell(Field::Due, i),
                format!(
                    "the due time is before the ready time ({}); expected due at or after ready",
                    fmt_minutes(ready)
                ),
            );
            continue;
        }
        if check_duplicate(&mut seen, id, t, i, Field::Id, "order id", problems) {
            continue;
        }
        acc.orders.push((
            DeliveryOrder {
                id: id.to_string(),
                warehouse: wh.to_string(),
                customer: t.cell(Field::Customer, i).map(str::to_string),
                location,
                quantity: qty,
                date,
                ready_min: ready,
                due_min: due,
                service_min: service.map_or(0, |s| s.round() as u32),
            },
            t.label.clone(),
            t.row(i),
        ));
    }
    fmt.map(|f| f.shown())
}

fn fmt_minutes(m: u32) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

pub(super) fn read_fleet(t: &Table, problems: &mut Problems, acc: &mut Acc) {
    let mut seen: HashMap<String, (String, usize)> = acc
        .fleet
        .iter()
        .map(|(v, f, row)| (v.id.clone(), (f.clone(), *row)))
        .collect();
    for i in 0..t.height() {
        let id = required_text(t, Field::Id, i, problems);
        let wh = required_text(t, Field::Warehouse, i, problems);
        let cap = match bounded_cell(
            t,
            Field::Capacity,
            i,
            (f64::MIN_POSITIVE, MAX_LOAD),
            "a capacity above 0 (at most 40 million units)",
            problems,
        ) {
            Ok(None) => {
                problems.error(
                    &t.label,
                    Some(t.row(i)),
                    t.col(Field::Capacity),
                    None,
                    "a capacity is required here",
                );
                Err(())
            }
            other => other,
        };
        let start = time_cell(t, Field::ShiftStart, i, problems);
        let end = time_cell(t, Field::ShiftEnd, i, problems);
        let speed = number_cell(
            t,
            Field::Speed,
            i,
            f64::MIN_POSITIVE,
            "a speed in km/h above 0",
            problems,
        );
        let cost = number_cell(t, Field::CostPerKm, i, 0.0, "a cost per km of 0 or more", problems);
        let (Some(id), Some(wh), Ok(Some(cap)), Ok(start), Ok(end), Ok(speed), Ok(cost)) =
            (id, wh, cap, start, end, speed, cost)
        else {
            continue;
        };
        let start = start.unwrap_or(8 * 60);
        let end = end.unwrap_or(18 * 60);
        if end <= start {
            problems.error(
                &t.label,
                Some(t.row(i)),
                t.col(Field::ShiftEnd),
                t.cell(Field::ShiftEnd, i),
                format!(
                    "the shift ends before it starts ({}); expected an end after the start",
                    fmt_minutes(start)
                ),
            );
            continue;
        }
        if check_duplicate(&mut seen, id, t, i, Field::Id, "vehicle id", problems) {
            continue;
        }
        acc.fleet.push((
            Vehicle {
                id: id.to_string(),
                warehouse: wh.to_string(),
                capacity: cap,
                shift_start_min: start,
                shift_end_min: end,
                speed_kmh: speed.unwrap_or(40.0),
                cost_per_km: cost.unwrap_or(0.0),
            },
            t.label.clone(),
            t.row(i),
        ));
    }
}

/// A calendar of known events. With a flag column of yes/no values (e.g.
/// Walmart's `IsHoliday`), a row is an event when its flag is set and the
/// event is named by its name column, or by the flag's column; a flag of
/// other words gives the event's kind. Without a flag every row is one.
pub(super) fn read_events(
    t: &Table,
    date_format: Option<&str>,
    problems: &mut Problems,
    acc: &mut Acc,
) -> Option<String> {
    let fmt = column_date_format(t, Field::Date, date_format, problems);
    let flag_col = t.col(Field::Flag).map(str::to_string);
    let flag_word = flag_col.as_deref().map(|c| super::mapping::flag_kind(c).to_string());
    // A flag column of yes/no words (one yes at least, and most of its
    // values): another word in it is a typo, read as no and said (it made
    // an event of kind "maybe"). Otherwise its words are the events' kinds,
    // and a "no" or "0" marks a day without one.
    let words: Vec<String> = (0..t.height())
        .filter_map(|i| t.cell(Field::Flag, i).map(|v| v.trim().to_ascii_lowercase()))
        .filter(|v| !v.is_empty())
        .collect();
    let yes = words.iter().filter(|v| YES.contains(&v.as_str())).count();
    let no = words.iter().filter(|v| NO.contains(&v.as_str())).count();
    let yes_no = yes > 0 && 2 * (yes + no) > words.len();
    let mut unclear: Option<(usize, String, usize)> = None;
    for i in 0..t.height() {
        let Ok(date) = date_cell(t, Field::Date, i, fmt.as_ref(), problems) else {
            continue;
        };
        let Some(date) = date else {
            problems.error(
                &t.label,
                Some(t.row(i)),
                t.col(Field::Date),
                None,
                "a date is required here",
            );
            continue;
        };
        let warehouse = t
            .cell(Field::Warehouse, i)
            .map(|w| w.trim().to_string())
            .filter(|w| !w.is_empty());
        let name = t
            .cell(Field::Event, i)
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty());
        let kind = match t.cell(Field::Flag, i).map(str::trim) {
            None | Some("") => None,
            Some(v) => {
                let v = v.to_ascii_lowercase();
                if YES.contains(&v.as_str()) {
                    flag_word.clone()
                } else if NO.contains(&v.as_str()) {
                    continue;
                } else if yes_no {
                    match &mut unclear {
                        Some((_, _, more)) => *more += 1,
                        None => unclear = Some((t.row(i), v, 0)),
                    }
                    continue;
                } else {
                    Some(v)
                }
            }
        };
        if name.is_none() && kind.is_none() {
            // Neither a name nor a set flag: nothing happens that day.
            continue;
        }
        if let Some(w) = &warehouse {
            acc.event_warehouses.push((w.clone(), t.label.clone(), t.row(i)));
        }
        let kind = kind
            .or_else(|| flag_word.clone())
            .unwrap_or_else(|| "event".to_string());
        acc.events.push(Event {
            date,
            warehouse,
            name: name.or_else(|| flag_col.clone()).unwrap_or_else(|| kind.clone()),
            kind,
        });
    }
    if let Some((row, value, more)) = unclear {
        problems.warning(
            &t.label,
            Some(row),
            flag_col.as_deref(),
            Some(&value),
            format!(
                "expected a yes or no word, as the column's other rows hold; read as no{}",
                match more {
                    0 => String::new(),
                    n => format!(" (and {n} more rows)"),
                }
            ),
        );
    }
    fmt.map(|f| f.shown())
}

/// A table of selling prices (M5's `sell_prices.csv`: store, item, week,
/// price): every row's price joins its SKU's, whose median becomes the
/// SKU's price where the product has none. A blank price is no price; one
/// that is not a number of 0 or more is an error.
pub(super) fn read_prices(t: &Table, problems: &mut Problems, acc: &mut Acc) {
    for i in 0..t.height() {
        let Some(sku) = required_text(t, Field::Sku, i, problems) else {
            continue;
        };
        if let Ok(Some(price)) = number_cell(t, Field::Price, i, 0.0, "a price of 0 or more", problems) {
            acc.list_price(sku.trim(), price);
        }
    }
}
